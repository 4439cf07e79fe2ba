// The certificates the HTTPS listener serves, by name. The certificate manager installs into
// it; the TLS handshake reads from it, so a new certificate is used by the next handshake.
//
// A certificate's TLS context (an OpenSSL SSL_CTX: about 42 KiB and 1.5 ms to build) is built on
// the first handshake for one of its names, not at install, and only the contexts of the most
// recently used certificates are kept: a padlock holding thousands of certificates starts in
// moments and pays memory only for the names that get visitors.
import { X509Certificate } from "node:crypto";
import type tls from "node:tls";
import type { KeyType } from "../config/schema.js";
import { createPolicyContext } from "./tls-policy.js";

/** Contexts kept built; one more built on a handshake evicts the least recently used. */
export const DEFAULT_MAX_CONTEXTS = 256;

export interface InstalledCertificate {
  names: string[];
  /** Built on first use (see CertificateCache). */
  readonly context: tls.SecureContext;
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
  /** Built contexts, least recently used first. */
  private readonly contexts = new Map<InstalledCertificate, tls.SecureContext>();
  /** How many installed certificates have each key type (asked on every install, so kept rather than counted). */
  private readonly installedByKeyType = new Map<string, number>();

  constructor(private readonly maxContexts = DEFAULT_MAX_CONTEXTS) {}

  /** `keyTypeKnown`: the key's type when the caller knows it, which spares parsing the certificate. */
  install(key: string, cert: string, names: string[], notAfter: Date, keyTypeKnown?: KeyType): InstalledCertificate {
    const keyType = keyTypeKnown ? (keyTypeKnown.startsWith("ecdsa") ? "ec" : "rsa") : (new X509Certificate(cert).publicKey.asymmetricKeyType ?? "unknown");
    const cache = this;
    const entry: InstalledCertificate = {
      names,
      key,
      cert,
      notAfter,
      keyType,
      get context() {
        return cache.contextOf(entry);
      },
    };
    const replaced = new Set(names.map((n) => this.byName.get(n)));
    for (const name of names) this.byName.set(name, entry);
    this.count(keyType, 1);
    for (const old of replaced) {
      if (!old || old.names.some((n) => this.byName.get(n) === old)) continue;
      this.contexts.delete(old);
      this.count(old.keyType, -1);
    }
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

  /** The certificate installed, when exactly one is. */
  only(): InstalledCertificate | undefined {
    let count = 0;
    for (const n of this.installedByKeyType.values()) count += n;
    return count === 1 ? this.byName.values().next().value : undefined;
  }

  /** The key types of the certificates installed now. */
  keyTypes(): Set<string> {
    return new Set(this.installedByKeyType.keys());
  }

  private count(keyType: string, change: number): void {
    const n = (this.installedByKeyType.get(keyType) ?? 0) + change;
    if (n > 0) this.installedByKeyType.set(keyType, n);
    else this.installedByKeyType.delete(keyType);
  }

  has(host: string): boolean {
    return this.lookup(host) !== undefined;
  }

  onInstall(listener: (c: InstalledCertificate) => void): void {
    this.listeners.add(listener);
  }

  /** How many contexts are built now. */
  get builtContexts(): number {
    return this.contexts.size;
  }

  private contextOf(entry: InstalledCertificate): tls.SecureContext {
    let context = this.contexts.get(entry);
    if (context) this.contexts.delete(entry);
    else context = createPolicyContext({ key: entry.key, cert: entry.cert });
    this.contexts.set(entry, context);
    if (this.contexts.size > this.maxContexts) this.contexts.delete(this.contexts.keys().next().value!);
    return context;
  }
}
