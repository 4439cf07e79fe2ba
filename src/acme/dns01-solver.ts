// DNS-01 (RFC 8555 §8.4) through a site's DNS provider: the TXT record is published, awaited at
// the zone's authoritative servers, validated by the CA, and always removed again. A failure to
// publish is logged at once (removing the record may take as long again), and at shutdown the
// work in flight is abandoned and its records removed within seconds. While a record is up, it
// is also noted in storage (challenges/dns-01/<name>), so that an instance taking over the order
// of one that stopped half-way (killed, its lock's lease run out) removes the record it left.
import { createHash } from "node:crypto";
import type { Logger } from "../log.js";
import { asProcessIdentity, describeProcess, isThisProcess, thisProcess, type ProcessIdentity } from "../storage/process-identity.js";
import type { Storage } from "../storage/storage.js";
import { challengeRecordName, withTxtRecord, type Dns01Provider } from "./dns01/provider.js";
import type { ChallengeSolver } from "./issuer.js";

const FOLDER = "challenges/dns-01/";

interface RecordNote {
  fqdn: string;
  value: string;
  publishedBy: ProcessIdentity;
  at: string;
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
    /** Where records that are up are noted (the set's lock is held while this solver works). */
    private readonly storage?: Storage,
  ) {}

  /** padlock is stopping: waits in flight end now and their records are removed. */
  abandon(): void {
    this.stopping.abort();
  }

  async withProof<T>(identifier: string, _token: string, keyAuthorization: string, validate: () => Promise<T>): Promise<T> {
    const fqdn = challengeRecordName(identifier);
    const value = createHash("sha256").update(keyAuthorization).digest("base64url");
    const noteKey = `${FOLDER}${identifier.toLowerCase()}`;
    await this.removeLeftover(noteKey);
    const note: RecordNote = { fqdn, value, publishedBy: thisProcess(), at: new Date().toISOString() };
    const noted = await this.storage?.put(noteKey, JSON.stringify(note)).then(() => true, () => false);
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
      if (noted && removed) await this.storage?.delete(noteKey).catch(() => undefined);
    }
  }

  /** A record another process published for this name and left up (it stopped before removing it). */
  private async removeLeftover(noteKey: string): Promise<void> {
    const raw = await this.storage?.get(noteKey).catch(() => undefined);
    if (!raw) return;
    let note: RecordNote | undefined;
    try {
      const v = JSON.parse(raw.toString("utf8")) as Partial<RecordNote>;
      const by = asProcessIdentity(v.publishedBy);
      if (typeof v.fqdn === "string" && typeof v.value === "string" && by && typeof v.at === "string") note = { fqdn: v.fqdn, value: v.value, publishedBy: by, at: v.at };
    } catch {
      // not a note: replaced below
    }
    if (note && !isThisProcess(note.publishedBy)) {
      try {
        await this.provider.cleanup(note.fqdn, note.value, this.stopping.signal);
        this.log.info(`${this.label}: removed the TXT record ${note.fqdn} "${note.value}" that ${describeProcess(note.publishedBy)} published at ${note.at} and left (it stopped during its order)`);
      } catch (err) {
        this.log.warn(`${this.label}: removing the TXT record ${note.fqdn} "${note.value}" left by ${describeProcess(note.publishedBy)} failed (remove it by hand): ${(err as Error).message}`);
      }
    }
    await this.storage?.delete(noteKey).catch(() => undefined);
  }
}
