// The certificates the HTTPS listener serves, by name. The certificate manager installs into
// it; the TLS handshake reads from it, so a new certificate is used by the next handshake.
import { createPrivateKey } from "node:crypto";
import type tls from "node:tls";
import { createPolicyContext } from "./tls-policy.js";

export interface InstalledCertificate {
  names: string[];
  context: tls.SecureContext;
  /** PEM key and chain, kept to become the default context for clients without SNI. */
  key: string;
  cert: string;
  notAfter: Date;
  /** "ec", "rsa"…: a TLS connection holds one certificate per key type (see the edge's default certificate). */
  keyType: string;
}

export class CertificateCache {
  private readonly byName = new Map<string, InstalledCertificate>();
  private readonly listeners = new Set<(c: InstalledCertificate) => void>();

  install(key: string, cert: string, names: string[], notAfter: Date): InstalledCertificate {
    const keyType = createPrivateKey(key).asymmetricKeyType ?? "unknown";
    const entry: InstalledCertificate = { names, key, cert, notAfter, keyType, context: createPolicyContext({ key, cert }) };
    for (const name of names) this.byName.set(name, entry);
    for (const l of this.listeners) l(entry);
    return entry;
  }

  lookup(servername: string): InstalledCertificate | undefined {
    const name = servername.toLowerCase();
    const exact = this.byName.get(name);
    if (exact) return exact;
    const dot = name.indexOf(".");
    return dot > 0 ? this.byName.get("*" + name.slice(dot)) : undefined;
  }

  /** The key types of the certificates installed now. */
  keyTypes(): Set<string> {
    return new Set([...this.byName.values()].map((c) => c.keyType));
  }

  has(host: string): boolean {
    return this.lookup(host) !== undefined;
  }

  onInstall(listener: (c: InstalledCertificate) => void): void {
    this.listeners.add(listener);
  }
}
