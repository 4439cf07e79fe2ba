// Certificates and keys as PEM: a new private key, what is wrong with a stored chain or key,
// whether a key belongs to a certificate, and which key type a key is.
import { createPrivateKey as readPrivateKey, generateKeyPairSync, X509Certificate, type KeyObject } from "node:crypto";
import type { KeyType } from "../config/schema.js";
import { splitChain } from "./certificate-info.js";

export function createPrivateKey(type: KeyType): string {
  const pair =
    type === "ecdsa-p256" || type === "ecdsa-p384"
      ? generateKeyPairSync("ec", { namedCurve: type === "ecdsa-p256" ? "P-256" : "P-384" })
      : generateKeyPairSync("rsa", { modulusLength: Number(type.slice(3)) });
  return pair.privateKey.export({ type: "pkcs8", format: "pem" }).toString();
}

/** What is wrong with a stored chain: a block that does not parse, one cut off, or an issuer out of order. */
export function chainProblem(chainPem: string): string | undefined {
  const chain = readChain(chainPem);
  return typeof chain === "string" ? chain : undefined;
}

/** The chain's certificates, leaf first, or what is wrong with it (see chainProblem). */
export function readChain(chainPem: string): X509Certificate[] | string {
  const blocks = splitChain(chainPem);
  if (blocks.length === 0) return chainPem.trim() === "" ? "it is empty" : "it holds no complete PEM certificate (truncated, or not PEM)";
  if ((chainPem.match(/-----BEGIN CERTIFICATE-----/g) ?? []).length !== blocks.length) return "its last certificate is cut off (truncated)";
  let certs: X509Certificate[];
  try {
    certs = blocks.map((b) => new X509Certificate(b));
  } catch (err) {
    return `a certificate in it does not parse (${(err as Error).message})`;
  }
  for (let i = 0; i + 1 < certs.length; i++) {
    if (!certs[i]!.checkIssued(certs[i + 1]!) || !certs[i]!.verify(certs[i + 1]!.publicKey)) return `the chain is out of order: certificate ${i + 2} did not issue certificate ${i + 1}`;
  }
  return certs;
}

/** The key, or what is wrong with it. (Reading a key is the dearest step of loading a stored set: done once per set.) */
export function readKey(keyPem: string): KeyObject | string {
  try {
    return readPrivateKey(keyPem);
  } catch (err) {
    return `not a readable private key (truncated, or not PEM: ${(err as Error).message})`;
  }
}

export function keyProblem(keyPem: string): string | undefined {
  const key = readKey(keyPem);
  return typeof key === "string" ? key : undefined;
}

/** For a chain and key that each passed their checks. */
export function keyMatches(chain: string | X509Certificate, key: string | KeyObject): boolean {
  const leaf = typeof chain === "string" ? new X509Certificate(splitChain(chain)[0]!) : chain;
  return leaf.checkPrivateKey(typeof key === "string" ? readPrivateKey(key) : key);
}

/** What the key is, as a config's tls.key_type says it. */
export function keyTypeOf(keyPem: string | KeyObject): KeyType | undefined {
  const key = typeof keyPem === "string" ? readPrivateKey(keyPem) : keyPem;
  const details = key.asymmetricKeyDetails ?? {};
  if (key.asymmetricKeyType === "ec") return details.namedCurve === "prime256v1" ? "ecdsa-p256" : details.namedCurve === "secp384r1" ? "ecdsa-p384" : undefined;
  if (key.asymmetricKeyType === "rsa") return (["rsa2048", "rsa3072", "rsa4096"] as const).find((t) => Number(t.slice(3)) === details.modulusLength);
  return undefined;
}
