// TLS-ALPN-01 challenge certificates published by the certificate manager and read by the HTTPS
// listener: a handshake offering ALPN `acme-tls/1` for a name held here gets that certificate.
// Instances sharing a storage also hold the challenges the others published (made here from the
// key authorization they shared, see shared-challenges.ts).
import type tls from "node:tls";
import { createPolicyContext } from "../tls/tls-policy.js";

export const ACME_TLS_ALPN_PROTOCOL = "acme-tls/1";

export class TlsAlpn01Challenges {
  private readonly byName = new Map<string, tls.SecureContext>();
  private readonly shared = new Map<string, Promise<tls.SecureContext | undefined>>();

  publish(name: string, keyPem: string, certPem: string): void {
    this.byName.set(name.toLowerCase(), this.contextFor({ keyPem, certPem }));
  }

  contextFor(c: { keyPem: string; certPem: string }): tls.SecureContext {
    return createPolicyContext({ key: c.keyPem, cert: c.certPem });
  }

  /** Another instance published a challenge for `name`: its context, being made or made. */
  sharedPublished(name: string, context: Promise<tls.SecureContext | undefined>): void {
    this.shared.set(name.toLowerCase(), context);
  }

  sharedWithdrawn(name: string): void {
    this.shared.delete(name.toLowerCase());
  }

  /** This instance's challenge for `name`, else another's. */
  async resolve(name: string): Promise<tls.SecureContext | undefined> {
    return this.lookup(name) ?? (await this.shared.get(name.toLowerCase()));
  }

  withdraw(name: string): void {
    this.byName.delete(name.toLowerCase());
  }

  lookup(name: string): tls.SecureContext | undefined {
    return this.byName.get(name.toLowerCase());
  }

  /** Whether any challenge is waiting: only then does the listener look at ClientHellos. */
  get pending(): boolean {
    return this.byName.size > 0 || this.shared.size > 0;
  }
}
