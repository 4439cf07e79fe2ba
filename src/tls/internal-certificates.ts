// Keeps certificates from the internal CA installed for the names that get them (localhost,
// loopback addresses, sites marked internal): issued at start, renewed at 2/3 of their life,
// retried with capped backoff on failure while the current certificate keeps being served.
import { internalNameSets } from "../config/certificate-source.js";
import type { Config, Site } from "../config/schema.js";
import type { Logger } from "../log.js";
import type { CertificateCache } from "./certificate-cache.js";
import type { IssuedCertificate } from "./internal-ca.js";
import { InternalCaError } from "./internal-ca-error.js";
import { FolderKeyFileStore } from "./key-files.js";
import { Turns } from "../time/turns.js";
import { runAt, systemClock, type Clock } from "../time/clock.js";
import { lastThirdStart, retryDelay, type RetryPolicy } from "../time/renewal-timing.js";

/** Certificates issued together at start: enough to keep libuv's four threads busy. */
const ISSUED_AT_ONCE = 8;

/** After a failed renewal: a minute, doubled each time, at most an hour (with the ACME scheduler's jitter). */
const DEFAULT_RETRY: RetryPolicy = { baseMs: 60_000, maxMs: 60 * 60_000 };

export interface InternalCertificatesOptions {
  /** The internal CA (or anything that issues the same way). */
  issuer: { issue(names: string[]): Promise<IssuedCertificate> };
  cache: CertificateCache;
  log: Logger;
  nameSets: string[][];
  /** Delays after a failed renewal (tests shorten them). */
  retry?: RetryPolicy;
  clock?: Clock;
}

export class InternalCertificates {
  /** The next renewal or retry of each name set (by its index), to cancel on stop. */
  private readonly scheduled = new Map<number, () => void>();
  private stopped = false;
  private readonly clock: Clock;

  constructor(private readonly options: InternalCertificatesOptions) {
    this.clock = options.clock ?? systemClock;
  }

  /**
   * Issues and installs a certificate for every name set; resolves once all are installed. A few
   * at a time (key generation and signing run on libuv's threads): a thousand at once held every
   * one's keys and intermediate objects together, and that peak stayed resident (~40 KiB a site).
   */
  async start(): Promise<void> {
    const turns = new Turns(ISSUED_AT_ONCE);
    await Promise.all(this.options.nameSets.map((names, set) => turns.run(() => this.renew(set, names, 0))));
  }

  stop(): void {
    this.stopped = true;
    for (const cancel of this.scheduled.values()) cancel();
    this.scheduled.clear();
  }

  /**
   * `attempt` 0 is the issuance at start, whose failure goes to the caller; after that it counts
   * the tries of one renewal, and a failed try waits retryDelay(attempt) for the next.
   */
  private async renew(set: number, names: string[], attempt: number): Promise<void> {
    if (this.stopped) return;
    const { log } = this.options;
    try {
      const issuedAt = this.clock.now(); // not notBefore, which is backdated for clock skew
      const issued = await this.options.issuer.issue(names);
      this.options.cache.install(issued.keyPem, issued.chainPem, names, issued.notAfter);
      const renewAt = lastThirdStart(new Date(issuedAt), issued.notAfter);
      log.info(`internal CA: certificate for ${names.join(", ")} installed, valid until ${issued.notAfter.toISOString()}, renewal at ${new Date(renewAt).toISOString()}`);
      this.schedule(set, () => this.renew(set, names, 1), renewAt);
    } catch (err) {
      if (attempt === 0) throw err;
      const retryMs = retryDelay(attempt, this.options.retry ?? DEFAULT_RETRY);
      log.warn(`internal CA: renewing the certificate for ${names.join(", ")} failed (${(err as Error).message}); the current one is still served; retrying in ${Math.round(retryMs / 1000)} s`);
      this.schedule(set, () => this.renew(set, names, attempt + 1), this.clock.now() + retryMs);
    }
  }

  private schedule(set: number, task: () => Promise<void>, at: number): void {
    if (this.stopped) return;
    this.scheduled.set(set, runAt(this.clock, at, () => void task()));
  }
}

/** Opens the internal CA in the storage folder and keeps the config's internal names served, if it has any. */
export async function startInternalCertificates(config: Config, cache: CertificateCache, log: Logger, storageDir: string, clock: Clock = systemClock): Promise<InternalCertificates | undefined> {
  const nameSets = internalNameSets(config);
  if (nameSets.length === 0) return undefined;
  // Loaded only when a site uses it: the certificate library behind it is slow to load.
  const { InternalCa, internalCaFolder } = await import("./internal-ca.js");
  const folder = internalCaFolder(storageDir);
  const ca = await InternalCa.open(new FolderKeyFileStore(folder), { clock }).catch((err: NodeJS.ErrnoException) => {
    if (err.code === "EACCES" || err.code === "EPERM" || err.code === "EROFS") {
      throw new InternalCaError(
        `cannot keep padlock's internal CA in ${folder} (${err.code} on ${err.path ?? folder}): make the storage folder writable by the user padlock runs as, e.g. sudo chown -R "$(id -un)" ${storageDir}`,
      );
    }
    throw err;
  });
  const keeper = new InternalCertificates({ issuer: ca, cache, log, nameSets, clock });
  await keeper.start();
  log.info(`internal CA: root certificate at ${ca.rootCertificatePath}; to make browsers trust it: padlock trust --install`);
  return keeper;
}
