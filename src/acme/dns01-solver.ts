// DNS-01 (RFC 8555 §8.4) through a site's DNS provider: the TXT record is published, awaited at
// the zone's authoritative servers, validated by the CA, and always removed again.
import { createHash } from "node:crypto";
import { challengeRecordName, withTxtRecord, type Dns01Provider } from "./dns01/provider.js";
import type { ChallengeSolver } from "./issuer.js";

/** How long the record may take to show at every authoritative server. */
const VISIBLE_WITHIN_MS = 120_000;

export class Dns01Solver implements ChallengeSolver {
  readonly type = "dns-01" as const;

  constructor(
    private readonly provider: Dns01Provider,
    private readonly onCleanupError: (fqdn: string, error: unknown) => void,
  ) {}

  withProof<T>(identifier: string, _token: string, keyAuthorization: string, validate: () => Promise<T>): Promise<T> {
    const fqdn = challengeRecordName(identifier);
    const value = createHash("sha256").update(keyAuthorization).digest("base64url");
    return withTxtRecord(this.provider, { fqdn, value, visibleBy: new Date(Date.now() + VISIBLE_WITHIN_MS) }, validate, (err) => this.onCleanupError(fqdn, err));
  }
}
