// TLS-ALPN-01 (RFC 8737): a self-signed certificate for the name, carrying the critical
// id-pe-acmeIdentifier extension (the SHA-256 digest of the key authorization), served by
// padlock's own HTTPS listener to handshakes that offer ALPN `acme-tls/1`. The key authorization
// is also kept where other instances sharing the storage find it: they make the same certificate
// from it (the CA may reach any of them); an unwritable storage never fails the challenge.
import { createHash } from "node:crypto";
import { isIP } from "node:net";
import type { ChallengeSolver } from "./issuer.js";

/** Where challenge certificates go while the CA checks: the HTTPS listener answers from there. */
export interface TlsAlpnBoard {
  publish(name: string, keyPem: string, certPem: string): void;
  withdraw(name: string): void;
}

/** Key authorizations kept, by name, for other instances sharing the storage. */
export interface KeyAuthorizations {
  publish(name: string, keyAuthorization: string): Promise<void>;
  withdraw(name: string): Promise<void>;
}

/** id-pe-acmeIdentifier (RFC 8737 §6.1); the pre-RFC 1.3.6.1.5.5.7.1.30.1 is refused by CAs. */
const ACME_IDENTIFIER_OID = "1.3.6.1.5.5.7.1.31";
const DAY_MS = 24 * 3600_000;

export class TlsAlpn01Solver implements ChallengeSolver {
  readonly type = "tls-alpn-01" as const;

  constructor(
    private readonly challenges: TlsAlpnBoard,
    private readonly shared?: KeyAuthorizations,
    /** Told when the shared copy cannot be written or removed (this instance still answers). */
    private readonly onStorageError: (err: unknown) => void = () => undefined,
  ) {}

  async withProof<T>(identifier: string, _token: string, keyAuthorization: string, validate: () => Promise<T>): Promise<T> {
    const { keyPem, certPem } = await createChallengeCertificate(identifier, keyAuthorization);
    this.challenges.publish(identifier, keyPem, certPem);
    const shared = await this.shared?.publish(identifier, keyAuthorization).then(
      () => true,
      (err: unknown) => (this.onStorageError(err), false),
    );
    try {
      return await validate();
    } finally {
      this.challenges.withdraw(identifier);
      if (shared) await this.shared?.withdraw(identifier).catch(this.onStorageError);
    }
  }
}

export async function createChallengeCertificate(identifier: string, keyAuthorization: string): Promise<{ keyPem: string; certPem: string }> {
  // Loaded on first use: @peculiar/x509 costs start-up ≈20 ms, and most orders use another challenge.
  const [x509Module, { generateKeys, privateKeyPem, serialNumber, SIGNING_ALGORITHM }] = await Promise.all([import("@peculiar/x509"), import("../tls/internal-ca.js")]);
  // A CommonJS package: Node and the bundle both give its exports whole as `default` (the bundle only so).
  const x509 = (x509Module as unknown as { default: typeof x509Module }).default;
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
