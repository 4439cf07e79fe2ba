// Renewal: forced, by the lifetime rule on an injected clock, and in real time with
// certificates that live seconds, while clients keep connecting: no request fails and the
// new certificate is what the next handshake gets.
import test from "node:test";
import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import assert from "node:assert/strict";
import { freePort, tempDir, waitFor } from "../support/env.js";
import { startPebble } from "../support/pebble.js";
import { startFrontedPebble } from "../support/ari-front.js";
import { FakeClock } from "../support/fake-clock.js";
import { startLoad } from "../support/load.js";
import { httpsGet } from "../support/clients.js";
import { loadConfigIn, startPadlock } from "../support/padlock-in-process.js";
import { readCertificate } from "../../src/tls/certificate-info.js";

/** The stored chain of the only certificate in a padlock storage under dir/data. */
async function storedChain(dir: string): Promise<string> {
  const root = path.join(dir, "data", "certificates");
  const ca = path.join(root, readdirSync(root)[0]!);
  return readFileSync(path.join(ca, readdirSync(ca)[0]!, "cert.pem"), "utf8");
}

const NAMES = ["blog.test", "www.blog.test"];
const site = { hosts: NAMES, redirect: "https://elsewhere.test" };

test("forced renewal under load: zero failed requests, the new certificate is served, no `replaces` without ARI", async (t) => {
  const { httpPort, pebble, front } = await startFrontedPebble(t, { ari: false });
  const work = tempDir("forced");
  t.after(() => work.remove());
  const p = await startPadlock(loadConfigIn(work.dir, { ca: front.directoryUrl, ca_root: pebble.apiRootFile, accept_terms: true, storage: "data", sites: [site] }), { baseDir: work.dir, httpPort });
  t.after(() => p.close());
  const manager = p.padlock.certificateManager!;
  const before = await waitFor("the first certificate", () => manager.status()[0]!.serial, 30_000);
  const root = await pebble.issuingRoot();

  const load = startLoad(NAMES, p.httpsPort, root);
  await waitFor("load on the first certificate", () => load.result.ok >= 10);
  await manager.renew(["blog.test"], { force: true });
  const after = manager.status()[0]!.serial!;
  assert.notEqual(after, before);
  await waitFor("load on the new certificate", () => load.result.serials.includes(after) && load.result.ok >= 30);
  const result = await load.stop();
  assert.deepEqual(result.failed, []);
  assert.deepEqual(result.serials, [before, after], "old certificate until the swap, then only the new one");
  assert.equal((await httpsGet("www.blog.test", p.httpsPort, root)).serial, after);
  assert.equal(front.orders().length, 2);
  assert.equal(front.orders()[1]!.replaces, undefined);
});

test("lifetime rule on an injected clock: nothing before 2/3 of the lifetime, a renewal after it", async (t) => {
  const { httpPort, pebble, front } = await startFrontedPebble(t, { ari: false });
  const work = tempDir("lifetime");
  t.after(() => work.remove());
  const clock = new FakeClock();
  const p = await startPadlock(loadConfigIn(work.dir, { ca: front.directoryUrl, ca_root: pebble.apiRootFile, accept_terms: true, storage: "data", sites: [site] }), {
    baseDir: work.dir,
    httpPort,
    tuning: { clock, random: () => 0.5 },
  });
  t.after(() => p.close());
  const manager = p.padlock.certificateManager!;
  const first = await waitFor("a planned renewal", () => manager.status()[0]!.nextRenewal && manager.status()[0]!, 30_000);
  assert.equal(first.nextRenewal!.reason, "expiring");
  const cert = readCertificate(await storedChain(work.dir));
  const life = cert.notAfter.getTime() - cert.notBefore.getTime();
  // 2/3 of the lifetime, less half of the 1/30 jitter (random is 0.5).
  assert.equal(first.nextRenewal!.at.getTime(), cert.notBefore.getTime() + (life * 2) / 3 - life / 60);

  clock.advance(first.nextRenewal!.at.getTime() - clock.now() - 60_000);
  assert.equal(front.orders().length, 1, "a minute before the renewal time: no order");
  assert.equal(manager.status()[0]!.serial, first.serial);
  clock.advance(120_000);
  // The renewal has started; put the clock back to real time so the new certificate (dated by
  // Pebble's real clock) is planned as it would be in real life.
  clock.set(Date.now());
  const renewed = await waitFor("the renewed certificate", () => manager.status()[0]!.serial !== first.serial && manager.status()[0]!.nextRenewal && manager.status()[0]!, 30_000);
  assert.equal(front.orders().length, 2);
  assert.ok(renewed.nextRenewal!.at.getTime() > Date.now() + 365 * 86400_000, "the new certificate is renewed years from now, not at once");
});

test("real time with certificates living 30 seconds: renewed before expiry while clients keep connecting", async (t) => {
  const httpPort = await freePort();
  const pebble = await startPebble({ httpPort, certificateValidityPeriod: 30 });
  t.after(() => pebble.stop());
  const work = tempDir("shortlived");
  t.after(() => work.remove());
  const p = await startPadlock(loadConfigIn(work.dir, { ca: pebble.directoryUrl, ca_root: pebble.apiRootFile, accept_terms: true, storage: "data", sites: [site] }), { baseDir: work.dir, httpPort });
  t.after(() => p.close());
  const manager = p.padlock.certificateManager!;
  const first = await waitFor("the first certificate", () => manager.status()[0]!.serial, 30_000);
  const load = startLoad(NAMES, p.httpsPort, await pebble.issuingRoot());
  const second = await waitFor("a renewal", () => manager.status()[0]!.serial !== first && manager.status()[0]!.serial, 45_000, 50);
  await waitFor("load on the renewed certificate", () => load.result.serials.includes(second), 10_000);
  const result = await load.stop();
  assert.deepEqual(result.failed, []);
  assert.ok(result.ok > 10);
  assert.equal(result.serials[0], first);
  assert.ok(result.serials.includes(second));
});
