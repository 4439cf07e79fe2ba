// Which certificate needs an order now, and when the next renewal or retry comes: inside the
// CA's ARI window when it offers one (RFC 9773), else two thirds into the lifetime; never at once
// after an issuance (a clock far off the CA's cannot loop orders); retries that back off, never
// sooner than the CA or the order budget allows. Decisions only: the manager acts on them.
import { AcmeProblem } from "../acme/problems.js";
import type { RenewalInfo } from "../acme/ari.js";
import { BudgetSpent } from "../acme/order-budget.js";
import type { Clock } from "../time/clock.js";
import { DEFAULT_RETRY, lifetimeRenewalTime, planFromWindow, retryDelay, type RetryPolicy, type Window } from "../time/renewal-timing.js";
import type { CertificateInfo } from "../tls/certificate-info.js";
import { Turns } from "../time/turns.js";

/**
 * Why a certificate is replaced, in the log line, `padlock certs show` and the metrics labels:
 * it nears its end (two thirds of its life), the CA's ARI window says so, it was revoked, a
 * person forced it, or its stored key (or certificate) was damaged.
 */
export type RenewalReason = "expiring" | "ari-window" | "revoked" | "forced" | "key-damaged";

/** Why an order is placed: a renewal's reason, or "new" when there was no usable certificate. */
export type OrderReason = RenewalReason | "new";

export interface RenewalPlan {
  at: Date;
  /** The reason the renewal will carry when it comes. */
  reason: "ari-window" | "expiring";
  window?: Window;
}

/** check: order only when missing or due; scheduled: the renewal time came; forced, revoked: order now. */
export type RefreshMode = "check" | "scheduled" | "forced" | "revoked";

export interface RenewalPlannerOptions {
  clock: Clock;
  random: () => number;
  /** Delays between attempts after a failure (default: 2 s doubling, at most 6 h). */
  retry?: RetryPolicy;
  /** How often to ask the CA's ARI again when it gives no Retry-After (default 6 h). */
  ariRecheckMs?: number;
  /** The CA's renewal information for a certificate; undefined when the CA offers none. */
  renewalInfo(ariId: string): Promise<RenewalInfo | undefined>;
}

const DEFAULT_ARI_RECHECK_MS = 6 * 3600_000;

export class RenewalPlanner {
  /** ARI requests in flight at once: a start with thousands of stored sets asks in turns, and serves meanwhile. */
  private readonly ariTurns = new Turns(4);

  constructor(private readonly o: RenewalPlannerOptions) {}

  /** Two thirds into the certificate's life, with jitter. */
  lifetimePlan(info: CertificateInfo): RenewalPlan {
    return { at: lifetimeRenewalTime(info.notBefore, info.notAfter, this.o.random), reason: "expiring" };
  }

  /**
   * A point in the CA's ARI window (the one chosen before, while the window still holds it) and
   * when to ask again; undefined when the certificate has no ARI id or the CA offers no ARI.
   * Throws when the CA's answer cannot be used.
   */
  async ariPlan(info: CertificateInfo, previous: RenewalPlan | undefined): Promise<{ plan: RenewalPlan; recheckAt: Date } | undefined> {
    if (!info.ariId) return undefined;
    const ari = await this.ariTurns.run(() => this.o.renewalInfo(info.ariId!));
    if (!ari) return undefined;
    const at = planFromWindow(ari.window, previous?.reason === "ari-window" ? previous.at : undefined, this.o.random);
    return { plan: { at, reason: "ari-window", window: ari.window }, recheckAt: ari.recheckAt ?? this.ariRecheck() };
  }

  /** When to ask the CA's ARI again after it gave nothing usable. */
  ariRecheck(): Date {
    return new Date(this.o.clock.now() + (this.o.ariRecheckMs ?? DEFAULT_ARI_RECHECK_MS));
  }

  /**
   * A certificate issued moments ago is never renewed at once (a local clock far off the CA's,
   * or a CA window already past): the plan waits a tenth of its lifetime (an hour at most).
   * `postponed` says it had to.
   */
  notTooSoon(plan: RenewalPlan, info: CertificateInfo, issuedAt: number | undefined): { plan: RenewalPlan; postponed: boolean } {
    if (issuedAt === undefined) return { plan, postponed: false };
    const earliest = issuedAt + Math.min(3600_000, (info.notAfter.getTime() - info.notBefore.getTime()) / 10);
    if (plan.at.getTime() >= earliest) return { plan, postponed: false };
    return { plan: { ...plan, at: new Date(earliest) }, postponed: true };
  }

  /** Due at its renewal plan's time, or (no plan yet) two thirds into its lifetime; always once expired. */
  isDue(info: CertificateInfo, plan?: RenewalPlan): boolean {
    const now = this.o.clock.now();
    if (now >= info.notAfter.getTime()) return true;
    const at = plan ? plan.at.getTime() : lifetimeRenewalTime(info.notBefore, info.notAfter, () => 0).getTime();
    return now >= at;
  }

  expired(info: CertificateInfo): boolean {
    return info.notAfter.getTime() <= this.o.clock.now();
  }

  /** Why a new certificate is needed now, or undefined when the current one is fine. */
  reasonToOrder(mode: RefreshMode, current: { info: CertificateInfo; usable: boolean } | undefined, keyDamaged: boolean, plan: RenewalPlan | undefined): OrderReason | undefined {
    if (mode === "forced" || mode === "revoked") return mode;
    if (!current || !current.usable) return keyDamaged ? "key-damaged" : "new";
    if (mode === "scheduled" || this.isDue(current.info, plan)) return plan?.reason ?? "expiring";
    return undefined;
  }

  /** How long to wait after failure number `failures`: backoff capped by the lifetime, never before the CA or the budget allows. */
  retryDelay(failures: number, err: unknown, current: CertificateInfo | undefined): number {
    const waitUntil = err instanceof BudgetSpent ? err.nextTry : err instanceof AcmeProblem ? err.retryAfter : undefined;
    const retryAfterMs = waitUntil ? waitUntil.getTime() - this.o.clock.now() : undefined;
    const life = current ? current.notAfter.getTime() - current.notBefore.getTime() : undefined;
    return retryDelay(failures, this.o.retry ?? DEFAULT_RETRY, life, retryAfterMs, this.o.random);
  }
}
