// Time for everything that waits or schedules: renewals, retries, ticket-key rotation, the
// internal CA's certificates, log rate limits. Each takes a Clock; tests give one they move by
// hand (test/support/fake-clock.ts), so no test waits for real time to pass.
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** The machine's clock; its timers never keep the process alive. */
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
