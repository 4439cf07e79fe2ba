// TLS-ALPN-01 challenge certificates published by the certificate manager and read by the HTTPS
// listener: a handshake offering ALPN `acme-tls/1` for a name held here gets that certificate.
import type tls from "node:tls";
import { createPolicyContext } from "../tls/tls-policy.js";

export const ACME_TLS_ALPN_PROTOCOL = "acme-tls/1";

export class TlsAlpn01Challenges {
  private readonly byName = new Map<string, tls.SecureContext>();

  publish(name: string, keyPem: string, certPem: string): void {
    this.byName.set(name.toLowerCase(), createPolicyContext({ key: keyPem, cert: certPem }));
  }

  withdraw(name: string): void {
    this.byName.delete(name.toLowerCase());
  }

  lookup(name: string): tls.SecureContext | undefined {
    return this.byName.get(name.toLowerCase());
  }

  /** Whether any challenge is waiting: only then does the listener look at ClientHellos. */
  get pending(): boolean {
    return this.byName.size > 0;
  }
}
