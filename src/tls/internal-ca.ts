// padlock's own certificate authority, for names no public CA will certify (localhost, *.localhost,
// loopback addresses, names configured as internal). A long-lived root, created once and trusted
// by the user on request (`padlock trust`), signs an intermediate, which signs short-lived leaf
// certificates that are renewed like ACME ones.
//
// Lifetimes: root 10 years (it is what people install; replacing it means re-trusting), the
// intermediate 1 year (re-signed automatically, nothing to re-trust), leaves 24 hours: nothing
// checks revocation for a private root, so a short life is what bounds a leaked leaf key (a copied
// dev folder, a debugging proxy), and renewal at 2/3 of the life happens in-process anyway.
// No name constraints: names configured as internal may change after the root is trusted, and a
// constrained root would then need re-installing.
import * as x509 from "@peculiar/x509";
import { X509Certificate, createPrivateKey, randomBytes, webcrypto } from "node:crypto";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { systemClock, type Clock } from "../time/clock.js";
import type { KeyFileStore } from "./key-files.js";
import { InternalCaError } from "./internal-ca-error.js";

export { InternalCaError };

/** The internal CA's folder inside padlock's storage folder. */
export function internalCaFolder(storageDir: string): string {
  return path.join(storageDir, "internal-ca");
}

const DAY_MS = 24 * 60 * 60 * 1000;
export const ROOT_LIFETIME_MS = 3650 * DAY_MS;
export const INTERMEDIATE_LIFETIME_MS = 365 * DAY_MS;
export const LEAF_LIFETIME_MS = DAY_MS;
/** Re-sign the intermediate when less than this is left, so leaves never outlive it. */
const INTERMEDIATE_RENEW_BEFORE_MS = 30 * DAY_MS;
/** notBefore in the past, for clocks (containers, VMs) slightly behind ours. */
const BACKDATE_MS = 5 * 60 * 1000;

const ROOT_FILE = "root.pem";
const ROOT_CERTIFICATE_FILE = "root.crt";
const INTERMEDIATE_FILE = "intermediate.pem";

const KEY_ALGORITHM = { name: "ECDSA", namedCurve: "P-256" } as const;
export const SIGNING_ALGORITHM = { name: "ECDSA", hash: "SHA-256" } as const;

export interface IssuedCertificate {
  names: string[];
  /** The leaf alone. */
  certificatePem: string;
  /** Leaf then intermediate: what a TLS server sends. */
  chainPem: string;
  keyPem: string;
  notBefore: Date;
  notAfter: Date;
}

interface Authority {
  certificate: x509.X509Certificate;
  certificatePem: string;
  key: CryptoKey;
}

export class InternalCa {
  private constructor(
    private readonly store: KeyFileStore,
    private readonly root: Authority,
    private intermediate: Authority,
    private readonly now: () => Date,
  ) {}

  /** Loads the CA from the store, creating the root once and (re-)signing the intermediate as needed. */
  static async open(store: KeyFileStore, options: { clock?: Clock } = {}): Promise<InternalCa> {
    const clock = options.clock ?? systemClock;
    const now = () => new Date(clock.now());
    const root = await loadOrCreateRoot(store, now());
    if ((await store.read(ROOT_CERTIFICATE_FILE)) !== root.certificatePem) {
      await store.write(ROOT_CERTIFICATE_FILE, root.certificatePem, { secret: false });
    }
    const stored = await loadAuthority(store, INTERMEDIATE_FILE);
    const intermediate = stored ?? (await createIntermediate(store, root, now()));
    const ca = new InternalCa(store, root, intermediate, now);
    if (stored) await ca.renewIntermediateIfNeeded();
    return ca;
  }

  /** The stored root certificate (public part only), without opening or creating the CA. */
  static readRootCertificate(store: KeyFileStore): Promise<string | undefined> {
    return store.read(ROOT_CERTIFICATE_FILE);
  }

  /** Where the root certificate is (or will be) stored. */
  static rootCertificatePath(store: KeyFileStore): string {
    return store.locate(ROOT_CERTIFICATE_FILE);
  }

  get rootCertificatePem(): string {
    return this.root.certificatePem;
  }

  /** SHA-256 fingerprint, colon-separated hex, as browsers and `openssl x509 -fingerprint -sha256` show it. */
  get rootFingerprint(): string {
    return new X509Certificate(this.root.certificatePem).fingerprint256;
  }

  get rootCertificatePath(): string {
    return InternalCa.rootCertificatePath(this.store);
  }

  get intermediateCertificatePem(): string {
    return this.intermediate.certificatePem;
  }

  /** A fresh leaf certificate (new ECDSA P-256 key) for DNS names, wildcards and IP addresses. */
  async issue(names: string[]): Promise<IssuedCertificate> {
    if (names.length === 0) throw new InternalCaError("a certificate needs at least one name");
    for (const name of names) {
      if (!net.isIP(name) && !/^(\*\.)?([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?\.)*[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?$/i.test(name)) {
        throw new InternalCaError(`"${name}" is neither a DNS name nor an IP address`);
      }
    }
    await this.renewIntermediateIfNeeded();
    const now = this.now();
    const notBefore = new Date(now.getTime() - BACKDATE_MS);
    const notAfter = new Date(Math.min(now.getTime() + LEAF_LIFETIME_MS, this.intermediate.certificate.notAfter.getTime()));
    const keys = await generateKeys();
    const certificate = await x509.X509CertificateGenerator.create({
      serialNumber: serialNumber(),
      subject: `CN=${names[0]}`,
      issuer: this.intermediate.certificate.subject,
      notBefore,
      notAfter,
      publicKey: keys.publicKey,
      signingKey: this.intermediate.key,
      signingAlgorithm: SIGNING_ALGORITHM,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
        new x509.SubjectAlternativeNameExtension(names.map((value) => ({ type: net.isIP(value) ? ("ip" as const) : ("dns" as const), value }))),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
        await x509.AuthorityKeyIdentifierExtension.create(this.intermediate.certificate.publicKey),
      ],
    });
    const certificatePem = certificate.toString("pem") + "\n";
    return {
      names: [...names],
      certificatePem,
      chainPem: certificatePem + this.intermediate.certificatePem,
      keyPem: await privateKeyPem(keys.privateKey),
      notBefore,
      notAfter,
    };
  }

  private async renewIntermediateIfNeeded(): Promise<void> {
    const current = this.intermediate.certificate;
    const expiring = current.notAfter.getTime() - this.now().getTime() < INTERMEDIATE_RENEW_BEFORE_MS;
    const signedByRoot = await current.verify({ publicKey: this.root.certificate.publicKey, signatureOnly: true });
    if (expiring || !signedByRoot) this.intermediate = await createIntermediate(this.store, this.root, this.now());
  }
}

async function loadOrCreateRoot(store: KeyFileStore, now: Date): Promise<Authority> {
  const existing = await loadAuthority(store, ROOT_FILE);
  if (existing) return existing;
  const keys = await generateKeys();
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serialNumber(),
    name: `CN=padlock local root ${os.hostname().replace(/[^A-Za-z0-9.-]/g, "-")} ${now.toISOString().slice(0, 10)}, O=padlock`,
    notBefore: new Date(now.getTime() - BACKDATE_MS),
    notAfter: new Date(now.getTime() + ROOT_LIFETIME_MS),
    keys,
    signingAlgorithm: SIGNING_ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(true, 1, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  // Create-if-absent: when another padlock process created a root at the same moment, theirs
  // stays and is the one loaded here.
  await store.create(ROOT_FILE, await authorityFile(certificate, keys.privateKey), { secret: true });
  return (await loadAuthority(store, ROOT_FILE))!;
}

async function createIntermediate(store: KeyFileStore, root: Authority, now: Date): Promise<Authority> {
  const keys = await generateKeys();
  const certificate = await x509.X509CertificateGenerator.create({
    serialNumber: serialNumber(),
    subject: `CN=padlock local intermediate ${now.toISOString().slice(0, 10)}, O=padlock`,
    issuer: root.certificate.subject,
    notBefore: new Date(now.getTime() - BACKDATE_MS),
    notAfter: new Date(Math.min(now.getTime() + INTERMEDIATE_LIFETIME_MS, root.certificate.notAfter.getTime())),
    publicKey: keys.publicKey,
    signingKey: root.key,
    signingAlgorithm: SIGNING_ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(root.certificate.publicKey),
    ],
  });
  await store.write(INTERMEDIATE_FILE, await authorityFile(certificate, keys.privateKey), { secret: true });
  return (await loadAuthority(store, INTERMEDIATE_FILE))!;
}

/** A CA file holds its certificate and its private key, so the pair is always written together. */
async function authorityFile(certificate: x509.X509Certificate, key: CryptoKey): Promise<string> {
  return certificate.toString("pem") + "\n" + (await privateKeyPem(key));
}

async function loadAuthority(store: KeyFileStore, name: string): Promise<Authority | undefined> {
  const text = await store.read(name);
  if (text === undefined) return undefined;
  const certificatePem = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/.exec(text)?.[0];
  const keyPem = /-----BEGIN PRIVATE KEY-----[\s\S]+?-----END PRIVATE KEY-----\n?/.exec(text)?.[0];
  const damaged = (why: string) =>
    new InternalCaError(`the internal CA file ${store.locate(name)} is damaged (${why}); move it away and padlock creates a new one${name === ROOT_FILE ? " (then trust the new root: padlock trust --install)" : ""}`);
  if (!certificatePem || !keyPem) throw damaged("it should hold a certificate and a private key");
  try {
    if (!new X509Certificate(certificatePem).checkPrivateKey(createPrivateKey(keyPem))) throw damaged("the key does not match the certificate");
    const der = Buffer.from(keyPem.replace(/-----[A-Z ]+-----|\s/g, ""), "base64");
    const key = await webcrypto.subtle.importKey("pkcs8", der, KEY_ALGORITHM, false, ["sign"]);
    return { certificate: new x509.X509Certificate(certificatePem), certificatePem: certificatePem.endsWith("\n") ? certificatePem : certificatePem + "\n", key };
  } catch (err) {
    if (err instanceof InternalCaError) throw err;
    throw damaged((err as Error).message);
  }
}

/** An ECDSA P-256 key pair, as every certificate padlock makes itself uses. */
export async function generateKeys(): Promise<CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(KEY_ALGORITHM, true, ["sign", "verify"])) as CryptoKeyPair;
}

export async function privateKeyPem(key: CryptoKey): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey("pkcs8", key));
  return `-----BEGIN PRIVATE KEY-----\n${der.toString("base64").replace(/.{64}/g, "$&\n").replace(/\n?$/, "\n")}-----END PRIVATE KEY-----\n`;
}

/** 128 random bits, positive and without a leading zero byte (RFC 5280 section 4.1.2.2). */
export function serialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0]! & 0x7f) | 0x40;
  return bytes.toString("hex");
}
