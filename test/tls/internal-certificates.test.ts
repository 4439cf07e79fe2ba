// Internal certificates are installed at start and renewed at 2/3 of their life, and the renewed
// one is what the next handshake gets; a failing renewal keeps the current certificate and
// retries. The CA and the keeper share a clock the test moves: a day-long certificate is renewed
// without waiting for it.
import test, { after } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import https from "node:https";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { promisify } from "node:util";
import { CertificateCache } from "../../src/tls/certificate-cache.js";
import { LOCAL_NAMES } from "../../src/config/certificate-source.js";
import { InternalCa } from "../../src/tls/internal-ca.js";
import { InternalCertificates } from "../../src/tls/internal-certificates.js";
import { FolderKeyFileStore } from "../../src/tls/key-files.js";
import { captureLog, tempDir, waitFor } from "../support/env.js";
import { FakeClock } from "../support/fake-clock.js";

const run = promisify(execFile);
const scratch = tempDir("internal-certs");
after(() => scratch.remove());

const HOUR = 3600_000;

test("installed at start, renewed before expiry, and the next handshake gets the new certificate", async () => {
  // Started 20 hours ago: the renewal 16 hours into the day-long life is still valid for curl now.
  const clock = new FakeClock(Date.now() - 20 * HOUR);
  const ca = await InternalCa.open(new FolderKeyFileStore(path.join(scratch.dir, "renew")), { clock });
  const cache = new CertificateCache();
  const installed: string[] = [];
  cache.onInstall((c) => installed.push(c.cert));
  const { log, lines } = captureLog("info");
  const keeper = new InternalCertificates({ issuer: ca, cache, log, nameSets: [LOCAL_NAMES], clock });
  const server = https.createServer({ SNICallback: (name, done) => done(null, cache.lookup(name)?.context) }, (_req, res) => res.end("ok"));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  const served = async () => {
    const { stdout } = await run("curl", ["--silent", "--show-error", "--fail", "--cacert", ca.rootCertificatePath, "--resolve", `localhost:${port}:127.0.0.1`, `https://localhost:${port}/`]);
    return stdout;
  };
  try {
    await keeper.start();
    assert.equal(installed.length, 1, "installed once start() resolves");
    assert.match(lines[0]!.msg, /internal CA: certificate for localhost, 127\.0\.0\.1, ::1 installed, valid until .*, renewal at /);
    assert.equal(await served(), "ok");

    clock.advance(16 * HOUR - 1);
    assert.equal(installed.length, 1, "not renewed before two thirds of its life");
    clock.advance(2);
    await waitFor("a renewal", () => installed.length >= 2);
    assert.notEqual(installed[1], installed[0]);
    const { stdout: servedCert } = await run("sh", ["-c", `openssl s_client -connect 127.0.0.1:${port} -servername localhost </dev/null 2>/dev/null | openssl x509`]);
    const current = cache.lookup("localhost")!.cert;
    assert.ok(current.startsWith(servedCert.trim()), "the handshake presents the renewed certificate");
    assert.equal(await served(), "ok");
  } finally {
    keeper.stop();
    server.close();
  }
});

test("a failed renewal keeps the current certificate, logs why, and retries", async () => {
  const clock = new FakeClock();
  const ca = await InternalCa.open(new FolderKeyFileStore(path.join(scratch.dir, "failing")), { clock });
  let calls = 0;
  const issuer = {
    issue: (names: string[]) => (calls++ === 0 ? ca.issue(names) : Promise.reject(new Error("storage is read-only"))),
  };
  const cache = new CertificateCache();
  const { log, lines } = captureLog("info");
  const keeper = new InternalCertificates({ issuer, cache, log, nameSets: [["localhost"]], retry: { baseMs: 60_000, maxMs: HOUR }, clock });
  const failures = () => lines.filter((l) => /failed/.test(l.msg)).length;
  try {
    await keeper.start();
    const first = cache.lookup("localhost")!.cert;
    clock.advance(16 * HOUR);
    await waitFor("a failed attempt", () => failures() === 1);
    clock.advance(30_000);
    assert.equal(failures(), 1, "the retry waits its delay");
    clock.advance(60_000);
    await waitFor("a second failed attempt", () => failures() === 2);
    const warning = lines.find((l) => /failed/.test(l.msg))!;
    assert.equal(warning.level, 40);
    assert.match(warning.msg, /renewing the certificate for localhost failed \(storage is read-only\); the current one is still served; retrying in/);
    assert.equal(cache.lookup("localhost")!.cert, first);
  } finally {
    keeper.stop();
  }
});

