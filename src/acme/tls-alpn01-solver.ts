// TLS-ALPN-01 (RFC 8737): a self-signed certificate for the name, carrying the critical
// id-pe-acmeIdentifier extension (the SHA-256 digest of the key authorization), served by
// padlock's own HTTPS listener to handshakes that offer ALPN `acme-tls/1`.
import * as x509 from "@peculiar/x509";
import { KeyObject, createHash, randomBytes, webcrypto } from "node:crypto";
import { isIP } from "node:net";
import type { ChallengeSolver } from "./issuer.js";
import type { TlsAlpn01Challenges } from "./tls-alpn01-challenges.js";

/** id-pe-acmeIdentifier (RFC 8737 §6.1); the pre-RFC 1.3.6.1.5.5.7.1.30.1 is refused by CAs. */
const ACME_IDENTIFIER_OID = "1.3.6.1.5.5.7.1.31";
const KEY_ALGORITHM = { name: "ECDSA", namedCurve: "P-256" } as const;
const SIGNING_ALGORITHM = { name: "ECDSA", hash: "SHA-256" } as const;
const DAY_MS = 24 * 3600_000;

export class TlsAlpn01Solver implements ChallengeSolver {
  readonly type = "tls-alpn-01" as const;

  constructor(private readonly challenges: TlsAlpn01Challenges) {}

  async withProof<T>(identifier: string, _token: string, keyAuthorization: string, validate: () => Promise<T>): Promise<T> {
    const { keyPem, certPem } = await createChallengeCertificate(identifier, keyAuthorization);
    this.challenges.publish(identifier, keyPem, certPem);
    try {
      return await validate();
    } finally {
      this.challenges.withdraw(identifier);
    }
  }
}

export async function createChallengeCertificate(identifier: string, keyAuthorization: string): Promise<{ keyPem: string; certPem: string }> {
  const keys = (await webcrypto.subtle.generateKey(KEY_ALGORITHM, true, ["sign", "verify"])) as CryptoKeyPair;
  const digest = createHash("sha256").update(keyAuthorization).digest();
  // The extension's value is the DER encoding of an OCTET STRING holding the digest.
  const acmeIdentifier = Buffer.concat([Buffer.from([0x04, digest.length]), digest]);
  const now = Date.now();
  const serial = randomBytes(16);
  serial[0] = (serial[0]! & 0x7f) | 0x40;
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial.toString("hex"),
    name: "CN=padlock ACME TLS-ALPN-01 challenge",
    notBefore: new Date(now - DAY_MS),
    notAfter: new Date(now + DAY_MS),
    keys,
    signingAlgorithm: SIGNING_ALGORITHM,
    extensions: [
      new x509.SubjectAlternativeNameExtension([{ type: isIP(identifier) ? "ip" : "dns", value: identifier }]),
      new x509.Extension(ACME_IDENTIFIER_OID, true, acmeIdentifier),
    ],
  });
  const keyPem = KeyObject.from(keys.privateKey).export({ type: "pkcs8", format: "pem" }).toString();
  return { keyPem, certPem: certificate.toString("pem") };
}
