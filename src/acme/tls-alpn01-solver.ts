// TLS-ALPN-01 (RFC 8737): a self-signed certificate for the name, carrying the critical
// id-pe-acmeIdentifier extension (the SHA-256 digest of the key authorization), served by
// padlock's own HTTPS listener to handshakes that offer ALPN `acme-tls/1`.
import * as x509 from "@peculiar/x509";
import { createHash } from "node:crypto";
import { isIP } from "node:net";
import { generateKeys, privateKeyPem, serialNumber, SIGNING_ALGORITHM } from "../tls/internal-ca.js";
import type { Storage } from "../storage/storage.js";
import { challengeRecord, TLS_ALPN01_FOLDER } from "./http01-solver.js";
import type { ChallengeSolver } from "./issuer.js";
import { shareChallenge } from "./shared-challenges.js";
import type { TlsAlpn01Challenges } from "./tls-alpn01-challenges.js";

/** id-pe-acmeIdentifier (RFC 8737 §6.1); the pre-RFC 1.3.6.1.5.5.7.1.30.1 is refused by CAs. */
const ACME_IDENTIFIER_OID = "1.3.6.1.5.5.7.1.31";
const DAY_MS = 24 * 3600_000;

export class TlsAlpn01Solver implements ChallengeSolver {
  readonly type = "tls-alpn-01" as const;

  constructor(
    private readonly challenges: TlsAlpn01Challenges,
    /** Instances sharing it make the same certificate from the key authorization written there. */
    private readonly storage?: Storage,
    private readonly onStorageError: (err: unknown) => void = () => undefined,
  ) {}

  async withProof<T>(identifier: string, _token: string, keyAuthorization: string, validate: () => Promise<T>): Promise<T> {
    const { keyPem, certPem } = await createChallengeCertificate(identifier, keyAuthorization);
    this.challenges.publish(identifier, keyPem, certPem);
    const key = `${TLS_ALPN01_FOLDER}${identifier.toLowerCase()}`;
    const shared = await (this.storage ? shareChallenge(this.storage, key, challengeRecord(keyAuthorization)) : undefined)?.then(
      () => true,
      (err: unknown) => (this.onStorageError(err), false),
    );
    try {
      return await validate();
    } finally {
      this.challenges.withdraw(identifier);
      if (shared) await this.storage?.delete(key).catch(this.onStorageError);
    }
  }
}

export async function createChallengeCertificate(identifier: string, keyAuthorization: string): Promise<{ keyPem: string; certPem: string }> {
  const keys = await generateKeys();
  const digest = createHash("sha256").update(keyAuthorization).digest();
  // The extension's value is the DER encoding of an OCTET STRING holding the digest.
  const acmeIdentifier = Buffer.concat([Buffer.from([0x04, digest.length]), digest]);
  const now = Date.now();
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serialNumber(),
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
  return { keyPem: await privateKeyPem(keys.privateKey), certPem: certificate.toString("pem") };
}
