// When to renew, and when to try again after a failure. Renew inside the CA's ARI window
// (RFC 9773) when it offers one, else at two thirds of the lifetime; spread renewals with
// jitter; back off exponentially (capped, relative to the lifetime so a 6-day or a 5-minute
// certificate is retried in time), never sooner than the CA's Retry-After.
import type { CaTransport } from "./ca-transport.js";
import { parseRetryAfter } from "./problems.js";

/** Time for the scheduler; tests inject one they can move. */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    t.unref();
    return t;
  },
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

// Node timers overflow past ~24.8 days; longer waits are re-armed in steps.
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Runs fn at `at` on the clock; returns a cancel function. */
export function runAt(clock: Clock, at: number, fn: () => void): () => void {
  let handle: unknown;
  let cancelled = false;
  const arm = () => {
    const wait = at - clock.now();
    if (wait <= 0) return fn();
    handle = clock.setTimeout(() => {
      if (!cancelled) arm();
    }, Math.min(wait, MAX_TIMER_MS));
  };
  arm();
  return () => {
    cancelled = true;
    if (handle !== undefined) clock.clearTimeout(handle);
  };
}

export interface Window {
  start: Date;
  end: Date;
}

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

/** When a certificate enters the last third of its life (ms since the epoch). */
export function lastThirdStart(notBefore: Date, notAfter: Date): number {
  return notBefore.getTime() + ((notAfter.getTime() - notBefore.getTime()) * 2) / 3;
}

/** Two thirds into the lifetime, moved earlier by up to 1/30 of it so renewals spread out. */
export function lifetimeRenewalTime(notBefore: Date, notAfter: Date, random: () => number = Math.random): Date {
  const life = notAfter.getTime() - notBefore.getTime();
  return new Date(lastThirdStart(notBefore, notAfter) - random() * (life / 30));
}

/** RFC 9773 §4.2: a uniformly random moment in the suggested window. */
export function pointInWindow(w: Window, random: () => number = Math.random): Date {
  return new Date(w.start.getTime() + random() * Math.max(0, w.end.getTime() - w.start.getTime()));
}

export interface RetryPolicy {
  /** First retry delay. */
  baseMs: number;
  /** Longest delay, whatever the lifetime. */
  maxMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { baseMs: 2_000, maxMs: 6 * 3600_000 };

/**
 * Delay before retry number `attempt` (1-based). The cap shrinks with short lifetimes (a
 * twentieth of it) so a short-lived certificate still gets many tries before it expires.
 */
export function retryDelay(attempt: number, policy: RetryPolicy, lifetimeMs?: number, retryAfterMs?: number, random: () => number = Math.random): number {
  const cap = lifetimeMs === undefined ? policy.maxMs : Math.max(policy.baseMs, Math.min(policy.maxMs, lifetimeMs / 20));
  const exponential = Math.min(cap, policy.baseMs * 2 ** Math.max(0, attempt - 1));
  const jittered = exponential * (0.8 + 0.4 * random());
  return Math.round(Math.max(jittered, retryAfterMs ?? 0));
}

export interface RenewalInfo {
  window: Window;
  /** When to ask again (Retry-After), if the CA said. */
  recheckAt?: Date;
}

/** GET renewalInfo/<ari id>; throws on anything unusable so the caller falls back. */
export async function fetchRenewalInfo(transport: CaTransport, renewalInfoUrl: string, ariId: string, now: number): Promise<RenewalInfo> {
  const res = await transport.request(`${renewalInfoUrl.replace(/\/$/, "")}/${ariId}`, "get");
  if (res.status !== 200) throw new Error(`the CA's renewal information (ARI) answered HTTP ${res.status}`);
  const body = res.data as { suggestedWindow?: { start?: string; end?: string } };
  const start = new Date(body?.suggestedWindow?.start ?? NaN);
  const end = new Date(body?.suggestedWindow?.end ?? NaN);
  if (Number.isNaN(start.getTime()) || Number.isNaN(end.getTime()) || end < start) {
    throw new Error("the CA's renewal information (ARI) has no valid suggestedWindow");
  }
  return { window: { start, end }, recheckAt: parseRetryAfter(res.headers["retry-after"], now) };
}

/** Keeps an earlier chosen point while it still falls inside the (possibly moved) window. */
export function planFromWindow(w: Window, previous: Date | undefined, random: () => number = Math.random): Date {
  if (previous && previous >= w.start && previous <= w.end) return previous;
  return pointInWindow(w, random);
}
