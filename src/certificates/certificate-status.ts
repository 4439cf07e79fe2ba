// Each name set's renewal state kept beside its certificate (status.json), so `padlock certs`
// without a running padlock and `padlock doctor` can say when the next renewal is due, what
// failed last and whether the CA has been rate limiting — not only what the certificate says.
import type { Logger } from "../log.js";
import { setAsideDamaged } from "../storage/damaged-files.js";
import type { Storage } from "../storage/storage.js";
import { AcmeProblem } from "../acme/problems.js";
import type { CertificateEvent } from "./events.js";
import type { OrderReason, RenewalPlan } from "./renewal-planner.js";
import { SET_FILES } from "./store-layout.js";

export interface CertificateStatusRecord {
  failures: number;
  lastSuccessAt?: string;
  lastError?: string;
  lastErrorAt?: string;
  nextRetry?: string;
  nextRenewal?: string;
  renewalReason?: RenewalPlan["reason"];
  ariWindow?: { start: string; end: string };
  /** When the CA answered rateLimited (or said the account is paused), most recent last. */
  rateLimitedAt: string[];
  /** The last order for the set: when, why, and whether it gave a certificate. */
  lastOrder?: { at: string; reason: OrderReason; outcome: "issued" | "failed" };
}

const STATUS_FILE = SET_FILES.status;
const KEEP_RATE_LIMITS = 10;

/** The set's status.json; undefined when there is none, or what is wrong with it. */
export async function readCertificateStatus(storage: Storage, folder: string): Promise<CertificateStatusRecord | { problem: string } | undefined> {
  const raw = await storage.get(`${folder}/${STATUS_FILE}`);
  if (!raw) return undefined;
  try {
    const parsed = JSON.parse(raw.toString("utf8")) as Partial<CertificateStatusRecord> | null;
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return { problem: "not a status record" };
    // Written by padlock before renewal reasons had their current names.
    const written = parsed.renewalReason as string | undefined;
    const renewalReason = written === "ari" ? "ari-window" : written === "lifetime" ? "expiring" : parsed.renewalReason;
    return { failures: 0, ...parsed, renewalReason, rateLimitedAt: parsed.rateLimitedAt ?? [] };
  } catch (err) {
    return { problem: `not JSON (${(err as Error).message})` };
  }
}

/** Keeps status.json up to date from the manager's events; writes per folder one at a time. */
export class CertificateStatusWriter {
  private readonly queues = new Map<string, Promise<void>>();

  constructor(
    private readonly storage: Storage,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  readonly observe = (event: CertificateEvent): void => {
    if (event.type === "ca-request" || event.type === "revoked") return;
    this.update(event.folder, (r) => {
      const now = new Date(this.now()).toISOString();
      switch (event.type) {
        case "installed":
          r.failures = 0;
          r.nextRetry = undefined;
          if (event.how !== "from storage") r.lastSuccessAt = now;
          break;
        case "planned":
          r.nextRenewal = event.plan.at.toISOString();
          r.renewalReason = event.plan.reason;
          r.ariWindow = event.plan.window && { start: event.plan.window.start.toISOString(), end: event.plan.window.end.toISOString() };
          break;
        case "ordered":
          r.lastOrder = { at: event.at.toISOString(), reason: event.reason, outcome: event.outcome };
          break;
        case "failed":
          r.failures = event.failures;
          r.lastError = event.message;
          r.lastErrorAt = now;
          r.nextRetry = event.nextRetry.toISOString();
          if (isRateLimitOrPause(event.error)) r.rateLimitedAt = [...r.rateLimitedAt, now].slice(-KEEP_RATE_LIMITS);
          break;
      }
    });
  };

  /** Resolves when every write queued so far is done. */
  async flush(): Promise<void> {
    await Promise.all(this.queues.values());
  }

  private update(folder: string, change: (r: CertificateStatusRecord) => void): void {
    const previous = this.queues.get(folder) ?? Promise.resolve();
    const next = previous.then(async () => {
      let stored = await readCertificateStatus(this.storage, folder);
      if (stored && "problem" in stored) {
        await setAsideDamaged(this.storage, this.log, `${folder}/${STATUS_FILE}`, stored.problem, "starting a new status record (renewal plan, failures, rate limits)");
        stored = undefined;
      }
      const before = stored && JSON.stringify(stored);
      const record = stored ?? { failures: 0, rateLimitedAt: [] };
      change(record);
      // Unchanged (a restart installing the stored certificate): no rewrite, no fsync.
      if (JSON.stringify(record) === before) return;
      await this.storage.put(`${folder}/${STATUS_FILE}`, JSON.stringify(record, null, 2) + "\n", { durable: false });
    }).catch((err: unknown) => this.log.warn(`could not record the certificate status in ${this.storage.location}/${folder}: ${(err as Error).message}`));
    this.queues.set(folder, next);
  }
}

/** The CA limiting this account: rateLimited, or userActionRequired (Let's Encrypt's paused accounts). */
export function isRateLimitOrPause(err: unknown): err is AcmeProblem {
  return err instanceof AcmeProblem && (err.rateLimited || err.kind === "userActionRequired");
}
