// Work in turns: never more than the limit running, every piece run, a failure gives its turn on.
import test from "node:test";
import assert from "node:assert/strict";
import { Turns } from "../../src/time/turns.js";

test("at most `atOnce` run together, in the order they came; a failure passes its turn on", async () => {
  const turns = new Turns(3);
  let running = 0;
  let most = 0;
  const started: number[] = [];
  const work = (i: number) =>
    turns.run(async () => {
      started.push(i);
      most = Math.max(most, ++running);
      await new Promise((r) => setImmediate(r));
      running--;
      if (i % 5 === 0) throw new Error(`piece ${i} fails`);
      return i;
    });
  const outcomes = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => work(i)));
  assert.equal(most, 3);
  assert.deepEqual(started, Array.from({ length: 20 }, (_, i) => i));
  assert.equal(outcomes.filter((o) => o.status === "rejected").length, 4);
  assert.deepEqual(outcomes.flatMap((o) => (o.status === "fulfilled" ? [o.value] : [])), Array.from({ length: 20 }, (_, i) => i).filter((i) => i % 5 !== 0));
});
