// DNS-01 (RFC 8555 §8.4) through a site's DNS provider: the TXT record is published, awaited at
// the zone's authoritative servers, validated by the CA, and always removed again. A failure to
// publish is logged at once (removing the record may take as long again), and at shutdown the
// work in flight is abandoned and its records removed within seconds.
import { createHash } from "node:crypto";
import type { Logger } from "../log.js";
import { challengeRecordName } from "../config/dns-settings.js";
import { withTxtRecord, type Dns01Provider } from "./dns01/provider.js";
import type { ChallengeSolver } from "./issuer.js";

/** How long the record may take to show at every authoritative server. */
const VISIBLE_WITHIN_MS = 120_000;

export class Dns01Solver implements ChallengeSolver {
  readonly type = "dns-01" as const;
  private readonly stopping = new AbortController();

  constructor(
    private readonly provider: Dns01Provider,
    private readonly log: Logger,
    /** The name set's names, for log lines. */
    private readonly label: string,
  ) {}

  /** padlock is stopping: waits in flight end now and their records are removed. */
  abandon(): void {
    this.stopping.abort();
  }

  withProof<T>(identifier: string, _token: string, keyAuthorization: string, validate: () => Promise<T>): Promise<T> {
    const fqdn = challengeRecordName(identifier);
    const value = createHash("sha256").update(keyAuthorization).digest("base64url");
    return withTxtRecord(this.provider, { fqdn, value, visibleBy: new Date(Date.now() + VISIBLE_WITHIN_MS) }, validate, {
      stopping: this.stopping.signal,
      onPublishError: (err) => this.log.warn(`${this.label}: publishing the TXT record ${fqdn} failed: ${(err as Error).message}; removing it again`),
      onCleanupError: (err) => this.log.warn(`${this.label}: removing the TXT record ${fqdn} "${value}" failed (remove it by hand): ${(err as Error).message}`),
    });
  }
}
