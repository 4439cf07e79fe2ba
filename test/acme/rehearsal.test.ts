// Staging rehearsal with two Pebbles, one as the staging directory (`staging:`) and one as
// production, each behind a front that records the orders it receives: a first issuance is tried
// against staging; a broken setup fails there and production receives no order; a working one
// reaches production exactly once, and a restart asks neither. Asked for with no staging known, the
// log says no rehearsal happens.
import test, { after, before } from "node:test";
import assert from "node:assert/strict";
import { freePort, tempDir, waitFor } from "../support/env.js";
import { makeApiCertificate, startPebble, type Pebble } from "../support/pebble.js";
import { startAcmeFront, type AcmeFront } from "../support/ari-front.js";
import { httpsGet } from "../support/clients.js";
import { loadConfigIn, startPadlock } from "../support/padlock-in-process.js";

let httpPort: number;
let staging: Pebble;
let production: Pebble;
let stagingFront: AcmeFront;
let productionFront: AcmeFront;
const shared = tempDir("rehearsal-api");

before(async () => {
  httpPort = await freePort();
  // One certificate for both Pebbles' APIs, so padlock's one ca_root trusts both.
  const api = makeApiCertificate(shared.dir);
  [staging, production] = await Promise.all([startPebble({ httpPort, api }), startPebble({ httpPort, api })]);
  [stagingFront, productionFront] = await Promise.all([startAcmeFront(staging, { ari: false }), startAcmeFront(production, { ari: false })]);
});

after(async () => {
  await Promise.all([stagingFront?.stop(), productionFront?.stop()]);
  await Promise.all([staging?.stop(), production?.stop()]);
  shared.remove();
});

function configFor(host: string): Record<string, unknown> {
  return {
    ca: productionFront.directoryUrl,
    staging: stagingFront.directoryUrl,
    ca_root: staging.apiRootFile,
    accept_terms: true,
    storage: "data",
    sites: [{ hosts: [host], redirect: "https://elsewhere.test", tls: { challenges: ["http-01"] } }],
  };
}

const ordersFor = (front: AcmeFront, host: string) => front.orders().filter((o) => (o.identifiers as { value: string }[]).some((i) => i.value === host));

test("a broken setup fails against staging, and production receives no order", async (t) => {
  const host = "broken.test";
  // The name points away from padlock in the CAs' DNS: HTTP-01 cannot succeed.
  await Promise.all([staging.dns.addA(host, ["127.0.0.2"]), production.dns.addA(host, ["127.0.0.2"])]);
  const work = tempDir("rehearsal-broken");
  t.after(() => work.remove());
  const p = await startPadlock(loadConfigIn(work.dir, configFor(host)), { baseDir: work.dir, httpPort });
  t.after(() => p.close());
  await waitFor("the failed attempt", () => p.padlock.certificateManager!.status()[0]!.failures > 0, 30_000);
  await p.close();

  assert.ok(ordersFor(stagingFront, host).length >= 1, "staging was asked");
  assert.equal(ordersFor(productionFront, host).length, 0, "production received no order");
  assert.equal(productionFront.requests.filter((r) => r.path.includes("new-order")).length, 0);
  const messages = p.messages();
  assert.ok(
    messages.some((m) => m.includes(`rehearsal against the staging directory ${stagingFront.directoryUrl} failed; the production directory ${productionFront.directoryUrl} was not asked`)),
    `the log says staging failed and production was not asked:\n${messages.join("\n")}`,
  );
  assert.match(p.padlock.certificateManager!.status()[0]!.lastError!, /broken\.test/);
});

test("a working setup is rehearsed against staging once, then reaches production exactly once; a restart asks neither", async (t) => {
  const host = "working.test";
  const work = tempDir("rehearsal-working");
  t.after(() => work.remove());
  const first = await startPadlock(loadConfigIn(work.dir, configFor(host)), { baseDir: work.dir, httpPort });
  const serial = await waitFor("the certificate", () => first.padlock.certificateManager!.status()[0]!.serial, 30_000);
  const answer = await httpsGet(host, first.httpsPort, await production.issuingRoot());
  assert.equal(answer.serial, serial, "the certificate served is production's");
  await first.close();

  assert.equal(ordersFor(stagingFront, host).length, 1, "one rehearsal order at staging");
  assert.equal(ordersFor(productionFront, host).length, 1, `one order at production: ${JSON.stringify(productionFront.requests.map((r) => r.path))}\n${first.messages().join("\n")}`);
  const messages = first.messages();
  const sequence = [
    `rehearsing against the staging directory ${stagingFront.directoryUrl}`,
    `ordering a certificate from ${stagingFront.directoryUrl}`,
    `rehearsal against the staging directory ${stagingFront.directoryUrl} passed; ordering from the production directory ${productionFront.directoryUrl}`,
    `ordering a certificate from ${productionFront.directoryUrl}`,
    "installed certificate",
  ];
  let at = -1;
  for (const expected of sequence) {
    const found = messages.findIndex((m, i) => i > at && m.includes(expected));
    assert.ok(found > at, `"${expected}" after line ${at} in:\n${messages.join("\n")}`);
    at = found;
  }

  const second = await startPadlock(loadConfigIn(work.dir, configFor(host)), { baseDir: work.dir, httpPort });
  t.after(() => second.close());
  assert.equal(second.padlock.certificateManager!.status()[0]!.serial, serial, "the stored certificate is used");
  assert.equal(ordersFor(stagingFront, host).length, 1, "no new rehearsal after a restart");
  assert.equal(ordersFor(productionFront, host).length, 1, "no new production order after a restart");
});

test("staging_rehearsal: true with a CA padlock knows no staging directory for says so at start, and orders from the CA directly", async (t) => {
  const host = "nostaging.test";
  const work = tempDir("rehearsal-none");
  t.after(() => work.remove());
  const { staging: _none, ...config } = configFor(host);
  const p = await startPadlock(loadConfigIn(work.dir, { ...config, staging_rehearsal: true }), { baseDir: work.dir, httpPort });
  t.after(() => p.close());
  await waitFor("the certificate", () => p.padlock.certificateManager!.status()[0]!.serial, 30_000);
  const warning = p.logs.find((l) => l.level === 40 && l.msg.startsWith("staging_rehearsal: true"));
  assert.ok(warning, p.messages().join("\n"));
  assert.match(warning.msg, new RegExp(`knows no staging directory for ${productionFront.directoryUrl.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: first issuances go to it directly, without a rehearsal\. Set staging: <the staging directory's URL>`));
  assert.equal(ordersFor(stagingFront, host).length, 0);
  assert.equal(ordersFor(productionFront, host).length, 1);
});
