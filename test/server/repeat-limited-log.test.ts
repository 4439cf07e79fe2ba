// Log lines clients cause: cut and escaped client text, one line a minute per kind, then a count
// of the ones held back.
import test from "node:test";
import assert from "node:assert/strict";
import { RepeatLimitedLog, clientText } from "../../src/repeat-limited-log.js";
import { captureLog } from "../support/env.js";
import { FakeClock } from "../support/fake-clock.js";

test("client text is cut and its control characters escaped", () => {
  assert.equal(clientText("a\u0000b\u001b[31m\u007f"), "a\\x00b\\x1b[31m\\x7f");
  const long = clientText("x".repeat(500));
  assert.ok(long.startsWith("x".repeat(200)));
  assert.match(long, /… \(300 more characters\)$/);
  assert.equal(clientText("short"), "short");
});

test("each kind of line is written once a minute; the count held back follows when the minute ends", () => {
  const { log, lines } = captureLog();
  const clock = new FakeClock(0);
  const clientLog = new RepeatLimitedLog(log, 60_000, clock);
  for (let i = 0; i < 50; i++) clientLog.warn("unknown token", { i }, "unknown token");
  clientLog.error("handler failed", {}, "request failed");
  assert.deepEqual(lines.map((l) => l.msg), ["unknown token", "request failed"]);
  clock.advance(60_000);
  assert.equal(lines.length, 3);
  assert.equal(lines[2]!.held_back, 49);
  assert.equal(lines[2]!.level, 40);
  assert.match(lines[2]!.msg, /^49 more like this in the last 60 s, not logged: unknown token$/);
  clientLog.warn("unknown token", {}, "unknown token");
  assert.equal(lines.length, 4, "a new minute writes the next one at once");
  clock.advance(60_000);
  assert.equal(lines.length, 4, "nothing held back, no summary");
});

test("beyond 256 kinds in a minute, new kinds are counted together, not dropped unseen", () => {
  const { log, lines } = captureLog();
  const clock = new FakeClock(0);
  const clientLog = new RepeatLimitedLog(log, 60_000, clock);
  for (let i = 0; i < 300; i++) clientLog.warn(`kind ${i}`, {}, `line ${i}`);
  assert.equal(lines.length, 257);
  assert.match(lines[256]!.msg, /^more than 256 kinds of repeated lines within a minute/);
  clock.advance(60_000);
  assert.equal(lines.at(-1)!.held_back, 43);
});
