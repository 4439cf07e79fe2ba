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

function assertPolicy(scan: TlsScan, when: string): void {
  assert.deepEqual(scan.protocols, ["TLSv1.2", "TLSv1.3"], `${when}: protocols`);
  const outside = scan.tls12Suites.filter((s) => !ALLOWED_TLS12.test(s));
  assert.deepEqual(outside, [], `${when}: TLS 1.2 suites outside the policy (CBC, CCM, ARIA, Camellia, static RSA…)`);
  // The certificate is ECDSA, so the ECDSA suites are what can be negotiated.
  assert.deepEqual([...scan.tls12Suites].sort(), ["ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-ECDSA-CHACHA20-POLY1305"], `${when}: TLS 1.2 suites`);
  assert.deepEqual([...scan.tls13Suites].sort(), ["TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"], `${when}: TLS 1.3 suites (no CCM)`);
  assert.deepEqual(scan.groups, ["X25519", "P-256", "P-384"], `${when}: key-exchange groups`);
  assert.deepEqual(scan.chosen, ["ECDHE-ECDSA-CHACHA20-POLY1305", "ECDHE-ECDSA-AES128-GCM-SHA256"], `${when}: the client's order decides`);
  assert.equal(scan.resumed, true, `${when}: a TLS 1.3 session ticket resumes`);
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
  const probe: [string, string] = ["ECDHE-ECDSA-CHACHA20-POLY1305", "ECDHE-ECDSA-AES128-GCM-SHA256"];
  assertPolicy(await scanTls(p.httpsPort, "blog.test", probe), "after the first certificate");

  await manager.renew(["blog.test"], { force: true });
  assert.notEqual(manager.status()[0]!.serial, first, "renewed");
  assertPolicy(await scanTls(p.httpsPort, "blog.test", probe), "after the renewal");
  // A client without SNI meets the same policy on the listener's own (default) context.
  assertPolicy(await scanTls(p.httpsPort, undefined, probe), "without SNI");
});

test("session ticket keys change every day, the same for every holder of one secret", () => {
  const clock = new FakeClock(Date.UTC(2026, 0, 1, 23, 0));
  const secret = Buffer.alloc(32, 7);
  const a = new SessionTicketKeys(secret, clock);
  const b = new SessionTicketKeys(secret, clock);
  const applied: Buffer[] = [];
  a.rotate((keys) => applied.push(keys));
  assert.equal(applied.length, 1);
  assert.equal(applied[0]!.length, 48);
  assert.deepEqual(b.current(), applied[0], "instances sharing a secret agree");
  assert.notDeepEqual(new SessionTicketKeys(Buffer.alloc(32, 8), clock).current(), applied[0], "another secret, other keys");
  clock.advance(59 * 60_000);
  assert.equal(applied.length, 1, "the same keys until the day changes");
  clock.advance(2 * 60_000);
  assert.equal(applied.length, 2, "new keys at midnight UTC");
  assert.notDeepEqual(applied[1], applied[0]);
  assert.deepEqual(b.current(), applied[1]);
  clock.advance(24 * 60 * 60_000);
  assert.equal(applied.length, 3);
  a.stop();
  clock.advance(48 * 60 * 60_000);
  assert.equal(applied.length, 3, "no rotation after stop");
});
