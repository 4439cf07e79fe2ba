// TLS-ALPN-01 end to end against Pebble, answered by padlock's own HTTPS listener: Pebble's
// tlsPort is padlock's HTTPS port and nothing listens on its HTTP-01 port. Normal HTTPS on the
// same port keeps working during the challenges; an HTTP-01-first site falls back to TLS-ALPN-01.
import test, { after, before } from "node:test";
import assert from "node:assert/strict";
import { freePort, tempDir, waitFor } from "../support/env.js";
import { startPebble, type Pebble } from "../support/pebble.js";
import { startLoad } from "../support/load.js";
import { httpsGet } from "../support/clients.js";
import { loadConfigIn, startPadlock } from "../support/padlock-in-process.js";

let pebble: Pebble;
let httpsPort: number;
/** Where Pebble sends HTTP-01 requests: a port nobody listens on. */
let closedHttpPort: number;

before(async () => {
  [httpsPort, closedHttpPort] = await Promise.all([freePort(), freePort()]);
  pebble = await startPebble({ httpPort: closedHttpPort, tlsPort: httpsPort });
});

after(() => pebble?.stop());

function configFor(sites: unknown[]): Record<string, unknown> {
  return { ca: pebble.directoryUrl, ca_root: pebble.apiRootFile, accept_terms: true, storage: "data", sites };
}

test("TLS-ALPN-01 alone: certificates through the HTTPS listener while normal HTTPS requests on it keep succeeding", async (t) => {
  const work = tempDir("tls-alpn01");
  t.after(() => work.remove());
  const config = configFor([
    { hosts: ["first.test"], redirect: "https://elsewhere.test", tls: { challenges: ["tls-alpn-01"] } },
    { hosts: ["second.test"], redirect: "https://elsewhere.test", tls: { challenges: ["tls-alpn-01"] } },
  ]);
  // The HTTP listener is on another port than Pebble's HTTP-01 port: HTTP-01 could not work.
  const p = await startPadlock(loadConfigIn(work.dir, config), { baseDir: work.dir, httpPort: 0, httpsPort });
  t.after(() => p.close());
  const manager = p.padlock.certificateManager!;
  await waitFor("both certificates", () => manager.status().every((s) => s.serial), 30_000);
  const root = await pebble.issuingRoot();
  const first = manager.status()[0]!.serial!;

  const load = startLoad(["first.test"], p.httpsPort, root);
  await waitFor("load on the first certificate", () => load.result.ok >= 10);
  const before = load.result.ok;
  // New orders for both names: Pebble's validation handshakes arrive between the load's.
  await Promise.all([manager.renew(["first.test"], { force: true }), manager.renew(["second.test"], { force: true })]);
  const renewed = manager.status()[0]!.serial!;
  assert.notEqual(renewed, first);
  await waitFor("load on the new certificate", () => load.result.serials.includes(renewed));
  const result = await load.stop();
  assert.deepEqual(result.failed, [], "no normal HTTPS request failed");
  assert.ok(result.ok > before, "requests ran while the challenges were answered");

  const second = await httpsGet("second.test", p.httpsPort, root);
  assert.equal(second.serial, manager.status()[1]!.serial);
  assert.match(second.names, /DNS:second\.test/);
  const messages = p.messages();
  for (const name of ["first.test", "second.test"]) {
    // At least the first order of each name is validated here; Pebble may hand the renewal's
    // order an authorization it already holds as valid, which needs no second validation.
    assert.ok(messages.some((m) => m.includes(`validating ${name} (tls-alpn-01)`)), `a TLS-ALPN-01 validation of ${name} in:\n${messages.join("\n")}`);
    assert.ok(!messages.some((m) => m.includes(`validating ${name} (http-01)`)), `no HTTP-01 validation of ${name}`);
  }
  assert.ok(!messages.some((m) => /http-01/.test(m)), "HTTP-01 was never tried");
});

test("fallback: an HTTP-01-first site whose port 80 Pebble cannot reach gets its certificate through TLS-ALPN-01, and the log says so", async (t) => {
  const work = tempDir("tls-alpn01-fallback");
  t.after(() => work.remove());
  // No tls.challenges: the default order, http-01 then tls-alpn-01.
  const config = configFor([{ hosts: ["blog.test"], redirect: "https://elsewhere.test" }]);
  const p = await startPadlock(loadConfigIn(work.dir, config), { baseDir: work.dir, httpPort: 0, httpsPort });
  t.after(() => p.close());
  const serial = await waitFor("the certificate", () => p.padlock.certificateManager!.status()[0]!.serial, 30_000);
  const answer = await httpsGet("blog.test", p.httpsPort, await pebble.issuingRoot());
  assert.equal(answer.serial, serial);

  const messages = p.messages();
  const order = [/validating blog\.test \(http-01\)/, /^blog\.test: http-01 failed \(.*\); trying tls-alpn-01$/, /validating blog\.test \(tls-alpn-01\)/, /installed certificate/];
  let at = -1;
  for (const expected of order) {
    const found = messages.findIndex((m, i) => i > at && expected.test(m));
    assert.ok(found > at, `a log line matching ${expected} after line ${at} in:\n${messages.join("\n")}`);
    at = found;
  }
  assert.match(messages.find((m) => /http-01 failed/.test(m))!, /connection refused|Connection refused|connect/i, "the reason names what went wrong");
  assert.equal(messages.filter((m) => /installed certificate/.test(m)).length, 1, "one certificate obtained (two ACME orders inside it)");
  assert.equal(p.padlock.certificateManager!.status()[0]!.lastOrder?.outcome, "issued", "the one attempt, with its fallback, ended in a certificate");
});
