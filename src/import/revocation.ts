// Whether a certificate was revoked, told by its CA's CRL (the CRL Distribution Points URL in
// the certificate, as Let's Encrypt has put in every certificate since 2025; its OCSP service
// is gone). The CRL's signature is checked against the issuer in the chain. When the
// certificate names no CRL, or the CRL cannot be fetched or trusted, the answer says so.
import { webcrypto } from "node:crypto";
import * as x509 from "@peculiar/x509";
import { splitChain } from "../tls/certificate-info.js";

export type Revocation =
  | { status: "revoked"; at: Date; reason?: string; crl: string }
  | { status: "good"; crl: string }
  | { status: "unknown"; why: string };

const FETCH_TIMEOUT_MS = 10_000;
/** Let's Encrypt shards its CRLs to a few MB at most. */
const MAX_CRL_BYTES = 64 * 1024 * 1024;

export async function checkRevocation(chainPem: string): Promise<Revocation> {
  const [leafPem, issuerPem] = splitChain(chainPem);
  const leaf = new x509.X509Certificate(leafPem!);
  const urls = crlUrls(leaf);
  if (urls.length === 0) return { status: "unknown", why: "the certificate names no CRL" };
  if (!issuerPem) return { status: "unknown", why: "the chain holds no issuer to check the CRL's signature with" };
  const url = urls[0]!;
  let crl: x509.X509Crl;
  try {
    crl = new x509.X509Crl(await fetchCrl(url));
  } catch (err) {
    return { status: "unknown", why: `the CRL ${url} could not be read (${(err as Error).message})` };
  }
  const issuer = new x509.X509Certificate(issuerPem);
  if (!(await crl.verify({ publicKey: issuer }, webcrypto as Crypto).catch(() => false))) {
    return { status: "unknown", why: `the CRL ${url} is not signed by the certificate's issuer` };
  }
  const entry = crl.findRevoked(leaf);
  if (!entry) return { status: "good", crl: url };
  return { status: "revoked", at: entry.revocationDate, reason: entry.reason === undefined ? undefined : x509.X509CrlReason[entry.reason], crl: url };
}

function crlUrls(cert: x509.X509Certificate): string[] {
  const ext = cert.getExtension(x509.CRLDistributionPointsExtension);
  return (ext?.distributionPoints ?? [])
    .flatMap((dp) => dp.distributionPoint?.fullName ?? [])
    .map((name) => name.uniformResourceIdentifier)
    .filter((u): u is string => typeof u === "string" && /^https?:\/\//.test(u));
}

async function fetchCrl(url: string): Promise<ArrayBuffer> {
  const res = await fetch(url, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  const length = Number(res.headers.get("content-length") ?? 0);
  if (length > MAX_CRL_BYTES) throw new Error(`it is ${length} bytes, more than the ${MAX_CRL_BYTES} padlock reads`);
  const body = await res.arrayBuffer();
  if (body.byteLength > MAX_CRL_BYTES) throw new Error(`it is more than ${MAX_CRL_BYTES} bytes`);
  return body;
}
