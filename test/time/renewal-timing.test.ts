// The renewal arithmetic on its own: lifetime rule with jitter, ARI points, retry delays for
// long and very short certificates, Retry-After, and timers longer than Node's limit.
import test from "node:test";
import assert from "node:assert/strict";
import { runAt } from "../../src/time/clock.js";
import { lifetimeRenewalTime, planFromWindow, retryDelay, DEFAULT_RETRY } from "../../src/time/renewal-timing.js";
import { FakeClock } from "../support/fake-clock.js";

const DAY = 86400_000;
const t0 = Date.UTC(2026, 0, 1);

test("lifetime rule: 2/3 of the lifetime, moved earlier by at most 1/30 of it", () => {
  for (const days of [90, 45, 6]) {
    const notAfter = new Date(t0 + days * DAY);
    assert.equal(lifetimeRenewalTime(new Date(t0), notAfter, () => 0).getTime(), t0 + (days * DAY * 2) / 3);
    assert.equal(lifetimeRenewalTime(new Date(t0), notAfter, () => 1).getTime(), t0 + (days * DAY * 2) / 3 - (days * DAY) / 30);
  }
});

test("ARI: a point inside the window, kept while the window still contains it", () => {
  const w = { start: new Date(t0), end: new Date(t0 + DAY) };
  assert.equal(planFromWindow(w, undefined, () => 0.25).getTime(), t0 + DAY / 4);
  const previous = new Date(t0 + DAY / 2);
  assert.equal(planFromWindow(w, previous, () => 0.9), previous);
  const moved = { start: new Date(t0 + 2 * DAY), end: new Date(t0 + 3 * DAY) };
  assert.equal(planFromWindow(moved, previous, () => 0).getTime(), t0 + 2 * DAY);
});

test("retry delays grow, are capped relative to the lifetime, and honour Retry-After", () => {
  const mid = () => 0.5; // no jitter
  const delays = [1, 2, 3, 4].map((n) => retryDelay(n, DEFAULT_RETRY, 90 * DAY, undefined, mid));
  assert.deepEqual(delays, [2_000, 4_000, 8_000, 16_000]);
  // A 5-minute certificate: never more than 15 s between attempts.
  assert.equal(retryDelay(30, DEFAULT_RETRY, 5 * 60_000, undefined, mid), 15_000);
  // A 6-day certificate: capped at 6 h (the policy maximum), not days.
  assert.equal(retryDelay(30, DEFAULT_RETRY, 6 * DAY, undefined, mid), 6 * 3600_000);
  // Rate limited with Retry-After: one hour it is, even on the first retry.
  assert.equal(retryDelay(1, DEFAULT_RETRY, 90 * DAY, 3600_000, mid), 3600_000);
  // Jitter stays within ±20 %.
  assert.equal(retryDelay(1, DEFAULT_RETRY, undefined, undefined, () => 0), 1_600);
  assert.equal(retryDelay(1, DEFAULT_RETRY, undefined, undefined, () => 1), 2_400);
});

test("runAt fires once, at the time, even months ahead (beyond Node's 24.8-day timer limit)", () => {
  const clock = new FakeClock(t0);
  let fired = 0;
  runAt(clock, t0 + 60 * DAY, () => fired++);
  clock.advance(60 * DAY - 1);
  assert.equal(fired, 0);
  clock.advance(1);
  assert.equal(fired, 1);
  clock.advance(100 * DAY);
  assert.equal(fired, 1);
  const cancel = runAt(clock, clock.now() + DAY, () => fired++);
  cancel();
  clock.advance(2 * DAY);
  assert.equal(fired, 1, "cancelled");
});
