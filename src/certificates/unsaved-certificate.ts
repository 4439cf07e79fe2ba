// A certificate that is served but not yet in storage (just issued, or its stored copy was
// damaged): written into the set's folder under the set's lock, and while storage refuses, tried
// again with growing delays, each failure logged with the path, the system's error and what
// happens meanwhile. It never leads to a new order; at shutdown it gets one last try.
import type { Logger } from "../log.js";
import { runAt, type Clock } from "../time/clock.js";
import { formatDuration, retryDelay, type RetryPolicy } from "../time/renewal-timing.js";
import type { CertificateStore } from "./certificate-store.js";
import type { StoredCertificate } from "./stored-set.js";

/** Storing a certificate served from memory: again after 2 s, doubling, at least once a minute. */
export const SAVE_RETRY: RetryPolicy = { baseMs: 2_000, maxMs: 60_000 };
/** At shutdown, the last try waits this long for the lock. */
const LAST_SAVE_LOCK_MS = 5_000;

export interface UnsavedCertificateOptions {
  store: CertificateStore;
  directoryUrl: string;
  folder: string;
  names: string[];
  log: Logger;
  clock: Clock;
  random: () => number;
  retry?: RetryPolicy;
}

export class UnsavedCertificate {
  /** Served, not yet stored. */
  cert?: StoredCertificate;
  private failures = 0;
  private cancelRetry?: () => void;
  private saving?: Promise<void>;
  private stopping = false;

  constructor(private readonly o: UnsavedCertificateOptions) {}

  /** Writes `cert` into storage; `locked` when the caller holds the set's lock. */
  save(locked: boolean, lockTimeoutMs?: number): Promise<void> {
    this.cancelRetry?.();
    this.cancelRetry = undefined;
    const { store, folder, log, clock } = this.o;
    const what = this.o.names.join(", ");
    const attempt = async (): Promise<StoredCertificate | undefined> => {
      const cert = this.cert;
      if (!cert) return undefined;
      await store.switchIn(folder, cert);
      if (this.cert === cert) this.cert = undefined;
      return cert;
    };
    const saving = (async () => {
      let stored: StoredCertificate | undefined;
      try {
        if (locked) stored = await attempt();
        else {
          const lock = await store.lockSet(this.o.directoryUrl, folder, what, lockTimeoutMs);
          try {
            stored = await attempt();
          } finally {
            await lock.release().catch(() => undefined);
          }
        }
      } catch (err) {
        const cert = this.cert;
        if (!cert) return;
        this.failures++;
        const delay = retryDelay(this.failures, this.o.retry ?? SAVE_RETRY, undefined, undefined, this.o.random);
        const again = this.stopping
          ? "Not tried again: padlock is stopping; the next start fetches it from the CA again if storage took the order's record, else orders anew"
          : `It is served from memory meanwhile and nothing is ordered again; next attempt in ${formatDuration(delay)}`;
        log.error(
          { names: this.o.names, folder: store.describe(folder), code: (err as { code?: string }).code, attempt: this.failures, retryInMs: Math.round(delay) },
          `${what}: could not store certificate ${cert.info.serial} (attempt ${this.failures}): ${(err as Error).message.replace(/\.$/, "")}. ${again}`,
        );
        if (!this.stopping) this.cancelRetry = runAt(clock, clock.now() + delay, () => void this.save(false));
        return;
      }
      if (stored && this.failures > 0) {
        log.info(`${what}: stored certificate ${stored.info.serial} in ${store.describe(folder)} after ${this.failures} failed attempt(s); it was served from memory meanwhile`);
      }
      this.failures = 0;
    })();
    this.saving = saving;
    return saving;
  }

  /** Padlock is stopping: no more retries. */
  stop(): void {
    this.stopping = true;
    this.cancelRetry?.();
  }

  /** After stop(): what is still unsaved gets one last try (storage may have been fixed meanwhile). */
  async lastTry(): Promise<void> {
    await this.saving;
    if (this.cert) await this.save(false, LAST_SAVE_LOCK_MS);
  }
}
