// TSIG (RFC 8945): signs an encoded DNS message with a shared HMAC key and checks the
// server's signed answer. Only what a dynamic-update client needs: one request, one answer.
import { createHmac, timingSafeEqual } from "node:crypto";
import { CLASS_ANY, TYPE_TSIG, encodeName, encodeRecord, layout, readName, u16, u32, u48 } from "./wire.js";

export const TSIG_ALGORITHMS = ["hmac-sha256", "hmac-sha512", "hmac-sha384", "hmac-sha224", "hmac-sha1"] as const;
export type TsigAlgorithm = (typeof TSIG_ALGORITHMS)[number];

export interface TsigKey {
  name: string;
  algorithm: TsigAlgorithm;
  secret: Buffer;
}

/** TSIG error codes (RFC 8945 section 4.3) by number. */
export const TSIG_ERRORS: Record<number, string> = { 16: "BADSIG", 17: "BADKEY", 18: "BADTIME", 22: "BADTRUNC" };

const FUDGE_SECONDS = 300;

export interface TsigRecord {
  keyName: string;
  algorithm: string;
  timeSigned: number;
  fudge: number;
  mac: Buffer;
  originalId: number;
  error: number;
  other: Buffer;
}

export interface SignedMessage {
  message: Buffer;
  mac: Buffer;
}

export function isTsigAlgorithm(name: string): name is TsigAlgorithm {
  return (TSIG_ALGORITHMS as readonly string[]).includes(name);
}

/** Appends a TSIG record to an encoded message (whose additional count does not include it yet). */
export function signMessage(message: Buffer, key: TsigKey, now: Date = new Date()): SignedMessage {
  const timeSigned = Math.floor(now.getTime() / 1000);
  const variables = tsigVariables(key.name, key.algorithm, timeSigned, FUDGE_SECONDS, 0, Buffer.alloc(0));
  const mac = hmac(key, Buffer.concat([message, variables]));
  const rdata = Buffer.concat([
    encodeName(key.algorithm),
    u48(timeSigned),
    u16(FUDGE_SECONDS),
    u16(mac.length),
    mac,
    u16(message.readUInt16BE(0)),
    u16(0),
    u16(0),
  ]);
  const signed = Buffer.concat([message, encodeRecord(key.name, TYPE_TSIG, CLASS_ANY, 0, rdata)]);
  signed.writeUInt16BE(signed.readUInt16BE(10) + 1, 10);
  return { message: signed, mac };
}

/** The TSIG record at the end of an answer, if it carries one. */
export function readTsig(answer: Buffer): (TsigRecord & { offset: number }) | undefined {
  const { lastAdditionalOffset: offset } = layout(answer);
  if (offset === undefined) return undefined;
  const owner = readName(answer, offset);
  if (answer.readUInt16BE(owner.end) !== TYPE_TSIG) return undefined;
  let at = owner.end + 10;
  const algorithm = readName(answer, at);
  at = algorithm.end;
  const timeSigned = answer.readUIntBE(at, 6);
  const fudge = answer.readUInt16BE(at + 6);
  const macSize = answer.readUInt16BE(at + 8);
  const mac = answer.subarray(at + 10, at + 10 + macSize);
  at += 10 + macSize;
  const otherLength = answer.readUInt16BE(at + 4);
  return {
    offset,
    keyName: owner.name,
    algorithm: algorithm.name,
    timeSigned,
    fudge,
    mac,
    originalId: answer.readUInt16BE(at),
    error: answer.readUInt16BE(at + 2),
    other: answer.subarray(at + 6, at + 6 + otherLength),
  };
}

/**
 * Checks the MAC of a signed answer to a request whose MAC was `requestMac`.
 * Returns undefined when it is valid, else why not.
 */
export function verifyAnswer(answer: Buffer, key: TsigKey, requestMac: Buffer): string | undefined {
  const tsig = readTsig(answer);
  if (!tsig) return "the answer is not signed";
  if (tsig.keyName !== key.name.toLowerCase().replace(/\.$/, "")) return `the answer is signed with another key (${tsig.keyName})`;
  const unsigned = Buffer.from(answer.subarray(0, tsig.offset));
  unsigned.writeUInt16BE(tsig.originalId, 0);
  unsigned.writeUInt16BE(unsigned.readUInt16BE(10) - 1, 10);
  const variables = tsigVariables(key.name, key.algorithm, tsig.timeSigned, tsig.fudge, tsig.error, tsig.other);
  const expected = hmac(key, Buffer.concat([u16(requestMac.length), requestMac, unsigned, variables]));
  if (tsig.mac.length !== expected.length || !timingSafeEqual(tsig.mac, expected)) return "the answer's TSIG signature does not verify";
  return undefined;
}

function tsigVariables(keyName: string, algorithm: string, timeSigned: number, fudge: number, error: number, other: Buffer): Buffer {
  return Buffer.concat([
    encodeName(keyName),
    u16(CLASS_ANY),
    u32(0),
    encodeName(algorithm),
    u48(timeSigned),
    u16(fudge),
    u16(error),
    u16(other.length),
    other,
  ]);
}

function hmac(key: TsigKey, data: Buffer): Buffer {
  return createHmac(key.algorithm.replace("hmac-", ""), key.secret).update(data).digest();
}
