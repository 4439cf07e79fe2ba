// The few pieces of DNS wire format that dns-packet does not cover: class NONE (RFC 2136
// deletes), raw records appended to an already-encoded message (TSIG), and finding where the
// last record of an answer starts (to strip and verify a TSIG).

export const TYPE_SOA = 6;
export const TYPE_TXT = 16;
export const TYPE_TSIG = 250;
export const CLASS_IN = 1;
export const CLASS_NONE = 254;
export const CLASS_ANY = 255;

/** Uncompressed, lower-cased wire form of a domain name (the canonical form TSIG signs). */
export function encodeName(name: string): Buffer {
  const trimmed = name.replace(/\.$/, "");
  const parts: Buffer[] = [];
  if (trimmed !== "") {
    for (const label of trimmed.toLowerCase().split(".")) {
      const bytes = Buffer.from(label, "ascii");
      if (bytes.length === 0 || bytes.length > 63) throw new Error(`"${name}" is not a valid domain name (empty or over-long label)`);
      parts.push(Buffer.from([bytes.length]), bytes);
    }
  }
  parts.push(Buffer.from([0]));
  return Buffer.concat(parts);
}

export function u16(value: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(value);
  return b;
}

export function u32(value: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(value);
  return b;
}

export function u48(value: number): Buffer {
  const b = Buffer.alloc(6);
  b.writeUIntBE(value, 0, 6);
  return b;
}

export function encodeRecord(name: string, type: number, klass: number, ttl: number, rdata: Buffer): Buffer {
  return Buffer.concat([encodeName(name), u16(type), u16(klass), u32(ttl), u16(rdata.length), rdata]);
}

/** TXT rdata: the value as character-strings of at most 255 bytes each. */
export function txtRdata(value: string): Buffer {
  const bytes = Buffer.from(value, "utf8");
  const parts: Buffer[] = [];
  for (let i = 0; i < bytes.length || i === 0; i += 255) {
    const chunk = bytes.subarray(i, i + 255);
    parts.push(Buffer.from([chunk.length]), chunk);
  }
  return Buffer.concat(parts);
}

/** Reads a possibly-compressed name; returns it (lower-case, no trailing dot) and where the name ends in place. */
export function readName(message: Buffer, offset: number): { name: string; end: number } {
  const labels: string[] = [];
  let position = offset;
  let end = -1;
  for (let jumps = 0; jumps < 64; jumps++) {
    const length = message.readUInt8(position);
    if (length === 0) {
      if (end < 0) end = position + 1;
      return { name: labels.join(".").toLowerCase(), end };
    }
    if ((length & 0xc0) === 0xc0) {
      if (end < 0) end = position + 2;
      position = message.readUInt16BE(position) & 0x3fff;
      continue;
    }
    labels.push(message.toString("ascii", position + 1, position + 1 + length));
    position += 1 + length;
  }
  throw new Error("malformed DNS name (compression loop)");
}

export interface MessageLayout {
  rcode: number;
  /** Offset of the last record in the additional section, if there is one. */
  lastAdditionalOffset?: number;
}

/** Walks the sections of a message to find where its last additional record begins. */
export function layout(message: Buffer): MessageLayout {
  const rcode = message.readUInt16BE(2) & 0x0f;
  const counts = [4, 6, 8, 10].map((at) => message.readUInt16BE(at));
  let offset = 12;
  for (let i = 0; i < counts[0]!; i++) offset = readName(message, offset).end + 4;
  const records = counts[1]! + counts[2]! + counts[3]!;
  let lastAdditionalOffset: number | undefined;
  for (let i = 0; i < records; i++) {
    if (i === records - 1 && counts[3]! > 0) lastAdditionalOffset = offset;
    const afterName = readName(message, offset).end;
    offset = afterName + 10 + message.readUInt16BE(afterName + 8);
  }
  return { rcode, lastAdditionalOffset };
}
