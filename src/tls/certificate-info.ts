// What padlock needs to know about a certificate chain: names, validity, serial, and its ARI
// identifier (RFC 9773 §4.1: base64url(AKI keyIdentifier) "." base64url(DER serial bytes)).
import { X509Certificate } from "node:crypto";
import { canonicalName } from "../config/host-name.js";
import { authorityKeyIdentifier } from "./authority-key-id.js";

export interface CertificateInfo {
  names: string[];
  notBefore: Date;
  notAfter: Date;
  /** Upper-case hex, as Node reports it. */
  serial: string;
  issuer: string;
  /** undefined when the certificate has no Authority Key Identifier. */
  ariId?: string;
}

const PEM_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

export function splitChain(chainPem: string): string[] {
  return chainPem.match(PEM_BLOCK) ?? [];
}

/**
 * `known`: the leaf already parsed, and what was noted of the certificate before (its meta.json),
 * whose ARI identifier is used when the serial matches. Otherwise the identifier is read on first use.
 */
export function readCertificate(chainPem: string, known: { leaf?: X509Certificate; meta?: { serial?: string; ariId?: string } } = {}): CertificateInfo {
  const leafPem = splitChain(chainPem)[0];
  if (!leafPem) throw new Error("no PEM certificate found");
  const leaf = known.leaf ?? new X509Certificate(leafPem);
  const { meta } = known;
  let ariId: string | undefined | null = meta?.ariId !== undefined && meta.serial === leaf.serialNumber ? meta.ariId : null;
  return {
    names: namesOf(leaf),
    notBefore: new Date(leaf.validFrom),
    notAfter: new Date(leaf.validTo),
    serial: leaf.serialNumber,
    issuer: leaf.issuer.replace(/\n/g, ", "),
    get ariId() {
      if (ariId === null) ariId = ariIdOf(leaf);
      return ariId;
    },
  };
}

/**
 * What meta.json says of a chain padlock checked when it stored it (see stored-set.ts): nothing
 * is parsed until the issuer, or an ARI identifier meta.json lacks, is asked for.
 */
export function infoFromMeta(chainPem: string, meta: { names: string[]; serial: string; notBefore: string; notAfter: string; ariId?: string }): CertificateInfo {
  let parsed: CertificateInfo | undefined;
  const parse = () => (parsed ??= readCertificate(chainPem));
  return {
    names: meta.names,
    notBefore: new Date(meta.notBefore),
    notAfter: new Date(meta.notAfter),
    serial: meta.serial,
    get issuer() {
      return parse().issuer;
    },
    get ariId() {
      return meta.ariId ?? parse().ariId;
    },
  };
}

function ariIdOf(leaf: X509Certificate): string | undefined {
  const keyId = authorityKeyIdentifier(leaf.raw);
  return keyId ? `${keyId.toString("base64url")}.${derIntegerBytes(leaf.serialNumber).toString("base64url")}` : undefined;
}

function namesOf(cert: X509Certificate): string[] {
  return (cert.subjectAltName ?? "")
    .split(", ")
    .map((entry) => {
      const m = /^(DNS|IP Address):(.+)$/.exec(entry);
      return m ? canonicalName(m[2]!) : undefined;
    })
    .filter((n): n is string => n !== undefined);
}

/** True when the certificate's names include every wanted name. */
export function covers(certNames: string[], wanted: string[]): boolean {
  return wanted.every((w) => certNames.includes(canonicalName(w)));
}

/**
 * The content bytes of the serial's DER INTEGER, as RFC 9773 §4.1 wants them: a positive number
 * whose first byte has its high bit set carries a leading 0x00 (the hex form drops it).
 */
function derIntegerBytes(hex: string): Buffer {
  const bytes = Buffer.from(hex.length % 2 ? "0" + hex : hex, "hex");
  return bytes.length > 0 && bytes[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), bytes]) : bytes;
}
