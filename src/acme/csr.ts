// The certificate signing request an order is finalized with (PKCS #10, RFC 2986): the names as
// subjectAltName (RFC 8555 §7.4), the first name that fits as common name, signed with the
// certificate's key by node:crypto. Written here rather than taken from acme-client, whose CSR
// code loads @peculiar/x509: evaluating its ASN.1 schemas cost ≈20 ms of the time from start to
// a first certificate, and a CSR is a handful of DER elements.
import { createPrivateKey, createPublicKey, sign, type KeyObject } from "node:crypto";
import { isIP, isIPv4 } from "node:net";

/** A CSR for `names` signed with `keyPem`, as base64url DER (what the finalize request carries). */
export function createCsr(names: string[], keyPem: string): string {
  const key = createPrivateKey(keyPem);
  const { hash, algorithm } = signatureOf(key);
  // The common name is optional and limited to 64 characters; the SAN list is what counts.
  const commonName = names.find((n) => !isIP(n) && n.length <= 64);
  const subject = sequence(...(commonName ? [set(sequence(oid("2.5.4.3"), tlv(UTF8_STRING, Buffer.from(commonName))))] : []));
  const altNames = sequence(...names.map((n) => (isIP(n) ? tlv(IP_ADDRESS, ipBytes(n)) : tlv(DNS_NAME, Buffer.from(n, "ascii")))));
  const extensionRequest = sequence(oid("1.2.840.113549.1.9.14"), set(sequence(sequence(oid("2.5.29.17"), tlv(OCTET_STRING, altNames)))));
  const info = sequence(tlv(INTEGER, Buffer.from([0])), subject, createPublicKey(key).export({ type: "spki", format: "der" }), tlv(ATTRIBUTES, extensionRequest));
  const signature = sign(hash, info, key);
  return sequence(info, algorithm, tlv(BIT_STRING, Buffer.concat([Buffer.from([0]), signature]))).toString("base64url");
}

const INTEGER = 0x02;
const BIT_STRING = 0x03;
const OCTET_STRING = 0x04;
const NULL = 0x05;
const OID = 0x06;
const UTF8_STRING = 0x0c;
const SEQUENCE = 0x30;
const SET = 0x31;
const ATTRIBUTES = 0xa0; // [0] IMPLICIT SET OF Attribute
const DNS_NAME = 0x82; // GeneralName [2] IMPLICIT IA5String
const IP_ADDRESS = 0x87; // GeneralName [7] IMPLICIT OCTET STRING

/** The hash and the DER AlgorithmIdentifier of the signature a key of this type makes. */
function signatureOf(key: KeyObject): { hash: string; algorithm: Buffer } {
  if (key.asymmetricKeyType === "rsa") return { hash: "sha256", algorithm: sequence(oid("1.2.840.113549.1.1.11"), tlv(NULL, Buffer.alloc(0))) };
  if (key.asymmetricKeyType === "ec") {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    if (curve === "prime256v1") return { hash: "sha256", algorithm: sequence(oid("1.2.840.10045.4.3.2")) };
    if (curve === "secp384r1") return { hash: "sha384", algorithm: sequence(oid("1.2.840.10045.4.3.3")) };
  }
  throw new Error(`cannot sign a CSR with a ${key.asymmetricKeyType} key${key.asymmetricKeyDetails?.namedCurve ? ` on ${key.asymmetricKeyDetails.namedCurve}` : ""}: padlock makes RSA, P-256 and P-384 keys`);
}

function tlv(tag: number, content: Buffer): Buffer {
  const n = content.length;
  const length = n < 0x80 ? [n] : n < 0x100 ? [0x81, n] : n < 0x10000 ? [0x82, n >> 8, n & 0xff] : [0x83, n >> 16, (n >> 8) & 0xff, n & 0xff];
  return Buffer.concat([Buffer.from([tag, ...length]), content]);
}

const sequence = (...items: Buffer[]) => tlv(SEQUENCE, Buffer.concat(items));
const set = (...items: Buffer[]) => tlv(SET, Buffer.concat(items));

function oid(dotted: string): Buffer {
  const [first, second, ...rest] = dotted.split(".").map(Number);
  const bytes = [first! * 40 + second!];
  for (const arc of rest) {
    const base128 = [arc & 0x7f];
    for (let v = Math.floor(arc / 128); v > 0; v = Math.floor(v / 128)) base128.unshift((v & 0x7f) | 0x80);
    bytes.push(...base128);
  }
  return tlv(OID, Buffer.from(bytes));
}

/** The 4 or 16 bytes of an IP address (an IPv6 address may hold `::` and an IPv4 tail). */
function ipBytes(ip: string): Buffer {
  if (isIPv4(ip)) return Buffer.from(ip.split(".").map(Number));
  const groups = (part: string): number[] =>
    part === "" ? [] : part.split(":").flatMap((g) => {
      if (!g.includes(".")) return [parseInt(g, 16)];
      const [a, b, c, d] = ipBytes(g);
      return [a! * 256 + b!, c! * 256 + d!];
    });
  const [head, tail] = ip.split("::") as [string, string?];
  const before = groups(head);
  const after = tail === undefined ? [] : groups(tail);
  const all = tail === undefined ? before : [...before, ...new Array<number>(8 - before.length - after.length).fill(0), ...after];
  const bytes = Buffer.alloc(16);
  all.forEach((g, i) => bytes.writeUInt16BE(g, i * 2));
  return bytes;
}
