// From empty storage to HTTPS for two names against Pebble; a restart reuses what is stored.
import test from "node:test";
import assert from "node:assert/strict";
import { statSync, writeFileSync, readdirSync } from "node:fs";
import path from "node:path";
import tls from "node:tls";
import { freePort, tempDir, waitFor } from "../support/env.js";
import { startPebble } from "../support/pebble.js";
import { startFrontedPebble } from "../support/ari-front.js";
import { curlHttpsStatus, httpsGet } from "../support/clients.js";
import { loadConfigIn, startPadlock } from "../support/padlock-in-process.js";

const NAMES = ["blog.test", "www.blog.test"];

test("one certificate for two names from empty storage, served over verified HTTPS; a restart reuses it", async (t) => {
  const { httpPort, pebble, front } = await startFrontedPebble(t, { ari: false });
  const work = tempDir("issue");
  t.after(() => work.remove());
  const config = {
    ca: front.directoryUrl,
    ca_root: pebble.apiRootFile,
    accept_terms: true,
    email: "me@blog.test",
    storage: "data",
    sites: [{ hosts: NAMES, redirect: "https://elsewhere.test" }],
  };

  const first = await startPadlock(loadConfigIn(work.dir, config), { baseDir: work.dir, httpPort });
  // Installed the moment it is issued; stored and its renewal planned right after.
  const installed = await waitFor("the certificate, stored and planned", () => first.padlock.certificateManager!.status()[0]!.nextRenewal && first.padlock.certificateManager!.status()[0]!.serial, 30_000);
  const root = await pebble.issuingRoot();
  const rootFile = path.join(work.dir, "pebble-root.pem");
  writeFileSync(rootFile, root);

  for (const name of NAMES) {
    const result = await curlHttpsStatus(name, first.httpsPort, rootFile);
    assert.equal(result.code, 0, `curl https://${name}/ failed: ${result.stderr}`);
    assert.equal(result.status, "308");
    const answer = await httpsGet(name, first.httpsPort, root);
    assert.equal(answer.serial, installed);
    assert.match(answer.names, /DNS:blog\.test/);
    assert.match(answer.names, /DNS:www\.blog\.test/);
  }
  assert.equal(front.orders().length, 1, "exactly one order for both names");
  assert.deepEqual((front.orders()[0]!.identifiers as { value: string }[]).map((i) => i.value), NAMES);

  const steps = first.messages();
  for (const expected of [/ordering a certificate from/, /validating blog\.test \(http-01\)/, /validating www\.blog\.test \(http-01\)/, /finalizing/, /installed certificate/, /next renewal .* \(at 2\/3 of its lifetime\)/]) {
    assert.ok(steps.some((m) => expected.test(m)), `a log line matching ${expected} in:\n${steps.join("\n")}`);
  }

  // Stable layout, private keys 0600, no copies.
  const storage = path.join(work.dir, "data");
  const caFolder = path.join(storage, "certificates", readdirSync(path.join(storage, "certificates"))[0]!);
  const setFolders = readdirSync(caFolder);
  assert.equal(setFolders.length, 1);
  assert.match(setFolders[0]!, /^blog\.test\+1-[0-9a-f]{10}$/);
  const setFolder = path.join(caFolder, setFolders[0]!);
  // status.json (the renewal state `padlock certs` and the doctor read) follows the install.
  await waitFor("cert.pem, key.pem, meta.json and status.json only", () => readdirSync(setFolder).sort().join(" ") === "cert.pem key.pem meta.json status.json");
  assert.equal(statSync(path.join(setFolder, "key.pem")).mode & 0o777, 0o600);
  const accountFolder = path.join(storage, "accounts", readdirSync(path.join(storage, "accounts"))[0]!);
  assert.equal(statSync(path.join(accountFolder, "account.key")).mode & 0o777, 0o600);
  await first.close();

  // Restart on the same storage: the stored certificate is served, no order is placed.
  const requestsBefore = front.requests.length;
  const second = await startPadlock(loadConfigIn(work.dir, config), { baseDir: work.dir, httpPort });
  t.after(() => second.close());
  assert.equal(second.padlock.certificateManager!.status()[0]!.serial, installed, "installed from storage during start-up");
  const again = await httpsGet("www.blog.test", second.httpsPort, root);
  assert.equal(again.serial, installed);
  await waitFor("the renewal plan", () => second.padlock.certificateManager!.status()[0]!.nextRenewal);
  assert.equal(front.orders().length, 1, "no new order after a restart");
  assert.equal(second.padlock.certificateManager!.status()[0]!.lastOrder, undefined, "this process placed no order");
  assert.deepEqual(
    front.requests.slice(requestsBefore).filter((r) => r.method === "POST"),
    [],
    "no signed request at all to the CA after a restart",
  );
  assert.equal(readdirSync(caFolder).length, 1, "no second folder for the same names");
});

test("an IP address gets a certificate through http-01 and is served to clients without SNI", async (t) => {
  const httpPort = await freePort();
  const pebble = await startPebble({ httpPort });
  t.after(() => pebble.stop());
  const work = tempDir("ip");
  t.after(() => work.remove());
  const p = await startPadlock(loadConfigIn(work.dir, { ca: pebble.directoryUrl, ca_root: pebble.apiRootFile, accept_terms: true, storage: "data", sites: [{ hosts: ["127.0.0.1"], redirect: "https://elsewhere.test" }] }), { baseDir: work.dir, httpPort });
  t.after(() => p.close());
  const serial = await waitFor("the certificate", () => p.padlock.certificateManager!.status()[0]!.serial, 30_000);
  const root = await pebble.issuingRoot();
  // Verified against the IP address in the certificate (no SNI is sent for an address).
  const socket = await new Promise<tls.TLSSocket>((resolve, reject) => {
    const s = tls.connect({ host: "127.0.0.1", port: p.httpsPort, ca: root }, () => resolve(s));
    s.once("error", reject);
  });
  assert.equal(socket.authorized, true);
  assert.equal(socket.getPeerCertificate().serialNumber, serial);
  assert.match(socket.getPeerCertificate().subjectaltname ?? "", /IP Address:127\.0\.0\.1/);
  socket.end();
});
