// The TLS policy holds for the life of the listener: scanned after the first certificate from
// Pebble is installed and again after it is renewed (installing a certificate once reset the
// listener to Node's defaults: CBC, CCM and ARIA suites, X448, the server's cipher order).
import test from "node:test";
import assert from "node:assert/strict";
import { freePort, tempDir, waitFor } from "../support/env.js";
import { startPebble } from "../support/pebble.js";
import { loadConfigIn, startPadlock } from "../support/padlock-in-process.js";
import { scanTls, type TlsScan } from "../support/tls-scan.js";
import { FakeClock } from "../support/fake-clock.js";
import { SessionTicketKeys } from "../../src/tls/session-ticket-keys.js";

/** Mozilla intermediate without DHE: ECDHE with AES-GCM or ChaCha20. */
const ALLOWED_TLS12 = /^ECDHE-(ECDSA|RSA)-(AES128-GCM-SHA256|AES256-GCM-SHA384|CHACHA20-POLY1305)$/;

/** The suites a certificate of this kind can be used with under the policy. */
const EXPECTED_TLS12 = {
  ECDSA: ["ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-ECDSA-CHACHA20-POLY1305"],
  RSA: ["ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-RSA-AES256-GCM-SHA384", "ECDHE-RSA-CHACHA20-POLY1305"],
};

function assertPolicy(scan: TlsScan, when: string, key: keyof typeof EXPECTED_TLS12): void {
  assert.deepEqual(scan.protocols, ["TLSv1.2", "TLSv1.3"], `${when}: protocols`);
  const outside = scan.tls12Suites.filter((s) => !ALLOWED_TLS12.test(s));
  assert.deepEqual(outside, [], `${when}: TLS 1.2 suites outside the policy (CBC, CCM, ARIA, Camellia, static RSA, DHE…)`);
  assert.deepEqual([...scan.tls12Suites].sort(), EXPECTED_TLS12[key], `${when}: TLS 1.2 suites`);
  assert.deepEqual([...scan.tls13Suites].sort(), ["TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"], `${when}: TLS 1.3 suites (no CCM)`);
  assert.deepEqual(scan.groups, ["X25519", "P-256", "P-384"], `${when}: key-exchange groups`);
  assert.deepEqual(scan.chosen, probeFor(key), `${when}: the client's order decides`);
  assert.equal(scan.resumed, true, `${when}: a TLS 1.3 session ticket resumes`);
}

/** Two suites the client offers in both orders; the server must take the client's first each time. */
function probeFor(key: keyof typeof EXPECTED_TLS12): [string, string] {
  return [`ECDHE-${key}-CHACHA20-POLY1305`, `ECDHE-${key}-AES128-GCM-SHA256`];
}

test("after a certificate install and after a renewal, padlock accepts only the policy's protocols, suites and groups, and the client chooses", async (t) => {
  const httpPort = await freePort();
  const pebble = await startPebble({ httpPort });
  t.after(() => pebble.stop());
  const work = tempDir("tls-policy");
  t.after(() => work.remove());
  const config = loadConfigIn(work.dir, { ca: pebble.directoryUrl, ca_root: pebble.apiRootFile, accept_terms: true, storage: "data", sites: [{ hosts: ["blog.test"], redirect: "https://x.test" }] });
  const p = await startPadlock(config, { baseDir: work.dir, httpPort });
  t.after(() => p.close());
  const manager = p.padlock.certificateManager!;
  const first = await waitFor("the certificate", () => manager.status()[0]!.serial, 30_000);
  assertPolicy(await scanTls(p.httpsPort, "blog.test", probeFor("ECDSA")), "after the first certificate", "ECDSA");

  await manager.renew(["blog.test"], { force: true });
  assert.notEqual(manager.status()[0]!.serial, first, "renewed");
  assertPolicy(await scanTls(p.httpsPort, "blog.test", probeFor("ECDSA")), "after the renewal", "ECDSA");
  // A client without SNI meets the same policy on the listener's own (default) context.
  assertPolicy(await scanTls(p.httpsPort, undefined, probeFor("ECDSA")), "without SNI", "ECDSA");
});

test("an RSA site beside an ECDSA one: only RSA suites for its name (static RSA and DHE still refused), never the other site's certificate", async (t) => {
  const httpPort = await freePort();
  const pebble = await startPebble({ httpPort });
  t.after(() => pebble.stop());
  const work = tempDir("tls-policy-rsa");
  t.after(() => work.remove());
  const sites = [
    { hosts: ["blog.test"], redirect: "https://x.test" },
    { hosts: ["rsa.test"], redirect: "https://x.test", tls: { key_type: "rsa2048" } },
  ];
  const p = await startPadlock(loadConfigIn(work.dir, { ca: pebble.directoryUrl, ca_root: pebble.apiRootFile, accept_terms: true, storage: "data", sites }), { baseDir: work.dir, httpPort });
  t.after(() => p.close());
  const manager = p.padlock.certificateManager!;
  await waitFor("both certificates", () => manager.status().every((s) => s.serial), 30_000);
  // With the ECDSA certificate also on the connection, a client preferring ECDSA suites would get blog.test's.
  assertPolicy(await scanTls(p.httpsPort, "rsa.test", probeFor("RSA")), "RSA", "RSA");
  assertPolicy(await scanTls(p.httpsPort, "blog.test", probeFor("ECDSA")), "ECDSA beside RSA", "ECDSA");
  assert.deepEqual((await scanTls(p.httpsPort, undefined, probeFor("ECDSA"))).protocols, [], "without SNI: no certificate while key types are mixed");
  assert.ok(p.messages().some((m) => m.startsWith("sites have certificates of different key types (ec, rsa)")), p.messages().join("\n"));
});

test("session ticket keys change every day, the same for instances that share a chain, and an earlier day's cannot be derived again", () => {
  const clock = new FakeClock(Date.UTC(2026, 0, 1, 23, 0));
  const day = Math.floor(clock.now() / 86_400_000);
  const start = { chain: Buffer.alloc(32, 7), day };
  const a = new SessionTicketKeys(start, clock);
  const b = new SessionTicketKeys(start, clock);
  const applied: Buffer[] = [];
  a.rotate((keys) => applied.push(keys));
  assert.equal(applied.length, 1);
  assert.equal(applied[0]!.length, 48);
  assert.deepEqual(b.current(), applied[0], "instances sharing a chain agree");
  assert.notDeepEqual(new SessionTicketKeys({ chain: Buffer.alloc(32, 8), day }, clock).current(), applied[0], "another chain, other keys");
  clock.advance(59 * 60_000);
  assert.equal(applied.length, 1, "the same keys until the day changes");
  clock.advance(2 * 60_000);
  assert.equal(applied.length, 2, "new keys at midnight UTC");
  assert.notDeepEqual(applied[1], applied[0]);
  assert.deepEqual(b.current(), applied[1], "b steps forward to the same keys");
  clock.set(clock.now() - 86_400_000);
  assert.deepEqual(a.current(), applied[1], "a clock set back does not bring back yesterday's keys");
  clock.set(clock.now() + 86_400_000);
  clock.advance(24 * 60 * 60_000);
  assert.equal(applied.length, 3);
  a.stop();
  clock.advance(48 * 60 * 60_000);
  assert.equal(applied.length, 3, "no rotation after stop");
});
