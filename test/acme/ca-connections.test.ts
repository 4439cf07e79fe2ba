// ARI lookups take a failed connection to the CA as their answer for a while: at start every
// stored certificate asks, and with the CA unreachable each would try it again.
import test from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { once } from "node:events";
import { CaConnections } from "../../src/acme/ca-connections.js";
import { captureLog } from "../support/env.js";
import { FakeClock } from "../support/fake-clock.js";

test("after a failed connection, ARI lookups fail at once with its error for 30 s, then try the CA again", async (t) => {
  let attempts = 0;
  // Accepts and resets every connection: a CA that cannot be reached.
  const ca = net.createServer((socket) => {
    attempts++;
    socket.resetAndDestroy();
  });
  ca.listen(0, "127.0.0.1");
  await once(ca, "listening");
  t.after(() => ca.close());
  const directoryUrl = `https://127.0.0.1:${(ca.address() as net.AddressInfo).port}/dir`;
  const clock = new FakeClock(Date.now());
  const connections = new CaConnections({
    ca: { directoryUrl, label: directoryUrl, publicCa: false, requiresEab: false, staging: false },
    solvers: [],
    storeFor: () => {
      throw new Error("no account is reached without a directory");
    },
    clock,
    log: captureLog().log,
  });
  t.after(() => connections.close());

  const first = await connections.renewalInfo("id").then(() => undefined, (err: unknown) => err);
  assert.ok(first instanceof Error, "the first lookup fails");
  const tried = attempts;
  assert.ok(tried >= 1, "the first lookup tried the CA");
  for (let i = 0; i < 5; i++) assert.equal(await connections.renewalInfo("id").then(() => undefined, (err: unknown) => err), first);
  assert.equal(attempts, tried, "no lookup within 30 s tried the CA again");

  clock.advance(30_000);
  await connections.renewalInfo("id").catch(() => undefined);
  assert.ok(attempts > tried, "30 s later a lookup tries the CA again");
});
