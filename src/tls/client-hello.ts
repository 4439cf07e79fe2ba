// Reads the server name (SNI) and the offered ALPN protocols from a TLS ClientHello before any
// TLS library sees it. Node chooses the certificate (SNICallback) before it knows the ALPN
// offer, so answering TLS-ALPN-01 on the normal HTTPS port has to look at the raw bytes first.

export interface ClientHello {
  serverName?: string;
  alpn: string[];
}

/** "incomplete": more bytes are needed; "not-tls": not a TLS handshake record holding a ClientHello. */
export type ClientHelloResult = ClientHello | "incomplete" | "not-tls";

const HANDSHAKE_RECORD = 0x16;
const CLIENT_HELLO = 0x01;
const EXT_SERVER_NAME = 0x0000;
const EXT_ALPN = 0x0010;

/** Parses the first TLS record of a connection (a ClientHello fits in one record in practice). */
export function parseClientHello(data: Buffer): ClientHelloResult {
  if (data.length < 5) return data.length > 0 && data[0] !== HANDSHAKE_RECORD ? "not-tls" : "incomplete";
  if (data[0] !== HANDSHAKE_RECORD || data[1] !== 0x03) return "not-tls";
  const recordLength = data.readUInt16BE(3);
  if (data.length < 5 + recordLength) return "incomplete";
  const r = new Reader(data.subarray(5, 5 + recordLength));
  try {
    if (r.u8() !== CLIENT_HELLO) return "not-tls";
    const body = new Reader(r.bytes(r.u24()));
    body.skip(2 + 32); // legacy_version, random
    body.skip(body.u8()); // legacy_session_id
    body.skip(body.u16()); // cipher_suites
    body.skip(body.u8()); // legacy_compression_methods
    const hello: ClientHello = { alpn: [] };
    if (body.done()) return hello;
    const extensions = new Reader(body.bytes(body.u16()));
    while (!extensions.done()) {
      const type = extensions.u16();
      const ext = new Reader(extensions.bytes(extensions.u16()));
      if (type === EXT_SERVER_NAME) {
        const list = new Reader(ext.bytes(ext.u16()));
        while (!list.done()) {
          const nameType = list.u8();
          const name = list.bytes(list.u16());
          if (nameType === 0) hello.serverName = name.toString("ascii");
        }
      } else if (type === EXT_ALPN) {
        const list = new Reader(ext.bytes(ext.u16()));
        while (!list.done()) hello.alpn.push(list.bytes(list.u8()).toString("ascii"));
      }
    }
    return hello;
  } catch {
    // A length pointing past the record: a ClientHello spread over several records, or garbage.
    // Either way the TLS library decides; this reader only looks for a TLS-ALPN-01 handshake.
    return "not-tls";
  }
}

class Reader {
  private at = 0;
  constructor(private readonly buf: Buffer) {}
  done(): boolean {
    return this.at >= this.buf.length;
  }
  u8(): number {
    return this.take(1).readUInt8(0);
  }
  u16(): number {
    return this.take(2).readUInt16BE(0);
  }
  u24(): number {
    return this.take(3).readUIntBE(0, 3);
  }
  bytes(n: number): Buffer {
    return this.take(n);
  }
  skip(n: number): void {
    this.take(n);
  }
  private take(n: number): Buffer {
    if (this.at + n > this.buf.length) throw new RangeError("truncated");
    const out = this.buf.subarray(this.at, this.at + n);
    this.at += n;
    return out;
  }
}
