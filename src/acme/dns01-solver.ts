// DNS-01 (RFC 8555 §8.4) through a site's DNS provider: the TXT record is published, awaited at
// the zone's authoritative servers, validated by the CA, and always removed again. A failure to
// publish is logged at once (removing the record may take as long again), and at shutdown the
// work in flight is abandoned and its records removed within seconds. While a record is up, it
// is also noted (in storage, by the caller's RecordNotes), so that an instance taking over the
// order of one that stopped half-way (killed, its lock's lease run out) removes the record it left.
import { createHash } from "node:crypto";
import type { Logger } from "../log.js";
import { challengeRecordName } from "../config/dns-settings.js";
import { withTxtRecord, type Dns01Provider } from "./dns01/provider.js";
import type { ChallengeSolver } from "./issuer.js";

/** A TXT record published for a name. */
export interface TxtRecord {
  fqdn: string;
  value: string;
}

/** Where the records that are up are noted (the set's lock is held while a solver works). */
export interface RecordNotes {
  note(name: string, record: TxtRecord): Promise<void>;
  remove(name: string): Promise<void>;
  /** A record another process noted for the name and left up (it stopped before removing it): who, and when. */
  leftBy(name: string): Promise<(TxtRecord & { by: string; at: string }) | undefined>;
}

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
    private readonly notes?: RecordNotes,
  ) {}

  /** padlock is stopping: waits in flight end now and their records are removed. */
  abandon(): void {
    this.stopping.abort();
  }

  async withProof<T>(identifier: string, _token: string, keyAuthorization: string, validate: () => Promise<T>): Promise<T> {
    const fqdn = challengeRecordName(identifier);
    const value = createHash("sha256").update(keyAuthorization).digest("base64url");
    await this.removeLeftover(identifier);
    const noted = await this.notes?.note(identifier, { fqdn, value }).then(() => true, () => false);
    let removed = true;
    try {
      return await withTxtRecord(this.provider, { fqdn, value, visibleBy: new Date(Date.now() + VISIBLE_WITHIN_MS) }, validate, {
        stopping: this.stopping.signal,
        onPublishError: (err) => this.log.warn(`${this.label}: publishing the TXT record ${fqdn} failed: ${(err as Error).message}; removing it again`),
        onCleanupError: (err) => {
          removed = false;
          this.log.warn(`${this.label}: removing the TXT record ${fqdn} "${value}" failed (remove it by hand): ${(err as Error).message}`);
        },
      });
    } finally {
      // A record that could not be removed stays noted: the next order for the name tries again.
      if (noted && removed) await this.notes?.remove(identifier).catch(() => undefined);
    }
  }

  /** A record another process published for this name and left up (it stopped before removing it). */
  private async removeLeftover(identifier: string): Promise<void> {
    const left = await this.notes?.leftBy(identifier).catch(() => undefined);
    if (!left) return;
    try {
      await this.provider.cleanup(left.fqdn, left.value, this.stopping.signal);
      this.log.info(`${this.label}: removed the TXT record ${left.fqdn} "${left.value}" that ${left.by} published at ${left.at} and left (it stopped during its order)`);
    } catch (err) {
      this.log.warn(`${this.label}: removing the TXT record ${left.fqdn} "${left.value}" left by ${left.by} failed (remove it by hand): ${(err as Error).message}`);
    }
    await this.notes?.remove(identifier).catch(() => undefined);
  }
}
