// Sends one DNS message to one server and returns the answer's bytes: UDP first (TCP when the
// answer is truncated or TCP is asked for). Encoding is up to the caller; this module only
// moves bytes and says clearly which server did not answer.
import { randomInt } from "node:crypto";
import dgram from "node:dgram";
import net from "node:net";
import { lookup } from "node:dns/promises";
import dnsPacket from "dns-packet";
import { formatServer, type DnsServer } from "../../config/dns-settings.js";

export type DnsTransport = "udp" | "tcp";

export interface ExchangeOptions {
  transport?: DnsTransport;
  /** Time allowed for each attempt (UDP tries twice before giving up). */
  timeoutMs?: number;
}

export class DnsUnreachableError extends Error {
  constructor(readonly server: string, detail: string) {
    super(`no answer from the DNS server at ${server}: ${detail}`);
    this.name = "DnsUnreachableError";
  }
}

const DEFAULT_TIMEOUT_MS = 3000;
const UDP_ATTEMPTS = 2;
const TRUNCATED = 1 << 9;

export async function exchange(server: DnsServer, message: Buffer, options: ExchangeOptions = {}): Promise<Buffer> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const address = net.isIP(server.host) ? server.host : await resolveHost(server);
  const target = { host: address, port: server.port };
  if (options.transport === "tcp") return exchangeTcp(target, message, timeoutMs, formatServer(server));
  const answer = await exchangeUdp(target, message, timeoutMs, formatServer(server));
  if (answer.readUInt16BE(2) & TRUNCATED) return exchangeTcp(target, message, timeoutMs, formatServer(server));
  return answer;
}

/** Unpredictable, so an off-path sender cannot guess which answer we wait for. */
export function newMessageId(): number {
  return randomInt(0x10000);
}

/** A plain, non-recursive query (RD clear): the server answers from its own zones only. */
export async function query(
  server: DnsServer,
  name: string,
  type: dnsPacket.RecordType,
  options: ExchangeOptions = {},
): Promise<dnsPacket.Packet & { rcode?: string; flag_aa?: boolean }> {
  const id = newMessageId();
  const message = dnsPacket.encode({ type: "query", id, flags: 0, questions: [{ type, name, class: "IN" }] });
  const answer = await exchange(server, message, options);
  return dnsPacket.decode(answer) as dnsPacket.Packet & { rcode?: string; flag_aa?: boolean };
}

async function resolveHost(server: DnsServer): Promise<string> {
  try {
    return (await lookup(server.host)).address;
  } catch (err) {
    throw new DnsUnreachableError(formatServer(server), `cannot resolve ${server.host} (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
}

function exchangeUdp(target: DnsServer, message: Buffer, timeoutMs: number, label: string): Promise<Buffer> {
  const id = message.readUInt16BE(0);
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket(net.isIPv6(target.host) ? "udp6" : "udp4");
    let attempts = 0;
    let timer: NodeJS.Timeout | undefined;
    let settled = false;
    const finish = (error: Error | undefined, answer?: Buffer) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.close();
      if (error) reject(error);
      else resolve(answer!);
    };
    const send = () => {
      attempts++;
      socket.send(message);
      timer = setTimeout(() => {
        if (attempts < UDP_ATTEMPTS) send();
        else finish(new DnsUnreachableError(label, `no UDP answer within ${(timeoutMs * UDP_ATTEMPTS) / 1000} s`));
      }, timeoutMs);
    };
    socket.on("message", (answer) => {
      if (answer.length >= 12 && answer.readUInt16BE(0) === id) finish(undefined, answer);
    });
    socket.on("error", (err: NodeJS.ErrnoException) => finish(new DnsUnreachableError(label, `${err.code ?? err.message} over UDP`)));
    socket.connect(target.port, target.host, send);
  });
}

function exchangeTcp(target: DnsServer, message: Buffer, timeoutMs: number, label: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: target.host, port: target.port });
    let received = Buffer.alloc(0);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new DnsUnreachableError(label, `no TCP answer within ${timeoutMs / 1000} s`));
    }, timeoutMs);
    socket.on("connect", () => {
      const length = Buffer.alloc(2);
      length.writeUInt16BE(message.length);
      socket.write(Buffer.concat([length, message]));
    });
    socket.on("data", (chunk) => {
      received = Buffer.concat([received, chunk]);
      if (received.length >= 2 && received.length >= 2 + received.readUInt16BE(0)) {
        clearTimeout(timer);
        socket.destroy();
        resolve(received.subarray(2, 2 + received.readUInt16BE(0)));
      }
    });
    socket.on("error", (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(new DnsUnreachableError(label, `${err.code ?? err.message} over TCP`));
    });
    socket.on("close", () => {
      clearTimeout(timer);
      reject(new DnsUnreachableError(label, "the TCP connection closed before a whole answer arrived"));
    });
  });
}
