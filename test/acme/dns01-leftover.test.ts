// A DNS-01 record is noted in storage while it is up, so that an instance taking over the order
// of one that stopped half-way (killed, its lock's lease run out) removes the record it left.
import test from "node:test";
import assert from "node:assert/strict";
import { pino } from "pino";
import { Dns01Solver } from "../../src/acme/dns01-solver.js";
import type { Dns01Provider } from "../../src/acme/dns01/provider.js";
import { SharedTokens } from "../../src/certificates/shared-tokens.js";
import { FsStorage } from "../../src/storage/fs-storage.js";
import { systemClock } from "../../src/time/clock.js";
import { tempDir } from "../support/env.js";

test("a TXT record another process left up is removed before the next one is published; the note lives as long as the record", async (t) => {
  const work = tempDir("dns01-leftover");
  t.after(() => work.remove());
  const storage = await FsStorage.open(work.dir);
  const elsewhere = { host: "other-machine", pid: 4242, started: "2025-01-01T00:00:00.000Z" };
  await storage.put("challenges/dns-01/blog.test", JSON.stringify({ fqdn: "_acme-challenge.blog.test", value: "left-behind", publishedBy: elsewhere, at: "2025-01-01T00:00:02.000Z" }));

  const calls: string[] = [];
  const provider: Dns01Provider = {
    description: "a provider that records its calls",
    present: async (fqdn, value) => void calls.push(`present ${fqdn} ${value}`),
    cleanup: async (fqdn, value) => void calls.push(`cleanup ${fqdn} ${value}`),
    waitVisible: async () => undefined,
  };
  const solver = new Dns01Solver(provider, pino({ level: "silent" }), "blog.test", new SharedTokens(storage, systemClock).dns01);
  let noteWhileUp: Record<string, unknown> | undefined;
  await solver.withProof("blog.test", "token", "key-authorization", async () => {
    noteWhileUp = JSON.parse((await storage.get("challenges/dns-01/blog.test"))!.toString()) as Record<string, unknown>;
  });
  const value = calls[1]!.split(" ")[2]!;
  assert.deepEqual(calls, ["cleanup _acme-challenge.blog.test left-behind", `present _acme-challenge.blog.test ${value}`, `cleanup _acme-challenge.blog.test ${value}`]);
  assert.equal(noteWhileUp?.value, value, "the record is noted while it is up");
  assert.equal((noteWhileUp?.publishedBy as { pid: number }).pid, process.pid);
  assert.equal(await storage.get("challenges/dns-01/blog.test"), undefined, "and the note removed with it");
});
