// When a certificate is due, and when to try again after a failure, whatever issued it (an ACME
// CA or padlock's internal CA): two thirds into its lifetime, moved earlier by jitter so renewals
// spread out; a point inside a window someone suggests (ARI); backoff that grows exponentially,
// is capped relative to the lifetime (a 6-day or a 5-minute certificate is retried in time), and
// never comes sooner than a Retry-After.
export interface Window {
  start: Date;
  end: Date;
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

/** Keeps an earlier chosen point while it still falls inside the (possibly moved) window. */
export function planFromWindow(w: Window, previous: Date | undefined, random: () => number = Math.random): Date {
  if (previous && previous >= w.start && previous <= w.end) return previous;
  return pointInWindow(w, random);
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

/** A wait in words for a log line: "12.0 s", "3.5 min", "2.0 h", "1.5 d". */
export function formatDuration(ms: number): string {
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < 3600_000) return `${(ms / 60_000).toFixed(1)} min`;
  if (ms < 86_400_000) return `${(ms / 3600_000).toFixed(1)} h`;
  return `${(ms / 86_400_000).toFixed(1)} d`;
}
