// Two padlock processes sharing one storage folder: one account, one order, one certificate
// served by both. Only one of them receives the CA's HTTP-01 requests; whichever orders, the
// other finds the token in the shared storage.
import test from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { freePort, tempDir, waitFor } from "../support/env.js";
import { startFrontedPebble } from "../support/ari-front.js";
import { existsSync, readdirSync } from "node:fs";
import { httpsGet } from "../support/clients.js";
import { loadConfigIn, startPadlock } from "../support/padlock-in-process.js";
import { spawnPadlock, writeConfig } from "../support/padlock-process.js";

test("two processes sharing a storage folder place one order between them", async (t) => {
  const { httpPort, pebble, front } = await startFrontedPebble(t, { ari: false });
  const work = tempDir("shared");
  const stops: (() => Promise<void>)[] = [];
  // One hook: the processes end before their storage folder is removed.
  t.after(async () => {
    await Promise.all(stops.map((stop) => stop()));
    work.remove();
  });
  const config = {
    ca: front.directoryUrl,
    ca_root: pebble.apiRootFile,
    accept_terms: true,
    storage: path.join(work.dir, "shared-data"),
    listen: "127.0.0.1",
    sites: [{ hosts: ["blog.test", "www.blog.test"], redirect: "https://elsewhere.test" }],
  };
  const [httpsA, httpB, httpsB] = await Promise.all([freePort(), freePort(), freePort()]);
  const a = spawnPadlock(["serve", "--config", writeConfig(path.join(work.dir, "a.yaml"), config), "--log-format", "json", "--http-port", String(httpPort), "--https-port", String(httpsA)]);
  stops.push(() => a.stop());
  // The CA's validation requests go to A's port, as a load balancer would send them only to
  // instances that are up: B starts once A listens.
  await a.serving();
  const b = spawnPadlock(["serve", "--config", writeConfig(path.join(work.dir, "b.yaml"), config), "--log-format", "json", "--http-port", String(httpB), "--https-port", String(httpsB)]);
  stops.push(() => b.stop());

  const root = await pebble.issuingRoot();
  const servedBy = (port: number) => waitFor(`HTTPS on port ${port}`, () => httpsGet("blog.test", port, root), 30_000, 50);
  const [fromA, fromB] = await Promise.all([servedBy(httpsA), servedBy(httpsB)]);
  assert.equal(fromA.serial, fromB.serial, "both serve the same certificate");
  assert.equal(front.orders().length, 1, `one order, not two\n${a.output()}\n${b.output()}`);
  assert.equal(front.requests.filter((r) => r.method === "POST" && r.path === "/sign-me-up").length, 1, "one account registration");
  const issuedHere = [a, b].filter((p) => /installed certificate \w+ \(issued in/.test(p.output()));
  const takenFromStorage = [a, b].filter((p) => /installed certificate \w+ \((stored by another instance|from storage)\)/.test(p.output()));
  assert.equal(issuedHere.length, 1, "one process ordered");
  assert.equal(takenFromStorage.length, 1, "the other took the certificate from the shared storage");
});

test("an instance answers the CA with a token another instance published in the shared storage", async (t) => {
  const { httpPort, pebble, front } = await startFrontedPebble(t, { ari: false });
  const work = tempDir("shared-tokens");
  t.after(() => work.remove());
  const config = {
    ca: front.directoryUrl,
    ca_root: pebble.apiRootFile,
    accept_terms: true,
    storage: path.join(work.dir, "shared-data"),
    sites: [{ hosts: ["blog.test", "www.blog.test"], redirect: "https://elsewhere.test" }],
  };
  // A receives the CA's requests; B's HTTP port is never contacted.
  const a = await startPadlock(loadConfigIn(work.dir, config), { baseDir: work.dir, httpPort });
  t.after(() => a.close());
  const first = await waitFor("A's certificate in storage", () => !a.padlock.certificateManager!.status()[0]!.unsaved && a.padlock.certificateManager!.status()[0]!.serial, 30_000);
  const b = await startPadlock(loadConfigIn(work.dir, config), { baseDir: work.dir, httpPort: await freePort() });
  t.after(() => b.close());
  assert.equal(b.padlock.certificateManager!.status()[0]!.serial, first, "B starts with the stored certificate");

  await b.padlock.certificateManager!.renew(["blog.test"], { force: true });
  const renewed = b.padlock.certificateManager!.status()[0]!.serial;
  assert.notEqual(renewed, first);
  assert.equal(front.orders().length, 2);
  assert.ok(a.logs.every((l) => !/unknown token/.test(l.msg)), "A knew every token B published");
  const tokens = path.join(work.dir, "shared-data", "challenges", "http-01");
  assert.deepEqual(existsSync(tokens) ? readdirSync(tokens) : [], [], "tokens removed afterwards");
});
