// Internal certificates are installed at start and renewed at 2/3 of their life (here a few
// seconds), and the renewed one is what the next handshake gets; a failing renewal keeps the
// current certificate and retries.
import test, { after, before } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import https from "node:https";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { setTimeout as sleep } from "node:timers/promises";
import { pino } from "pino";
import { CertificateCache } from "../../src/tls/certificate-cache.js";
import { InternalCa, LOCAL_NAMES } from "../../src/tls/internal-ca.js";
import { InternalCertificates } from "../../src/tls/internal-certificates.js";
import { internalNameSets } from "../../src/tls/internal-ca-choice.js";
import { FolderKeyFileStore } from "../../src/tls/key-files.js";

const run = promisify(execFile);
let scratch: string;

before(async () => {
  scratch = await mkdtemp(path.join(os.tmpdir(), "padlock-internal-certs-"));
});

after(async () => {
  await rm(scratch, { recursive: true, force: true });
});

function capturingLog() {
  const lines: { level: number; msg: string }[] = [];
  const log = pino({ level: "info" }, { write: (line: string) => void lines.push(JSON.parse(line)) });
  return { log, lines };
}

async function until(what: string, condition: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

test("which sites the internal CA serves", () => {
  const site = (hosts: string[], tls?: object) => ({ hosts, static: ".", ...(tls ? { tls } : {}) });
  assert.deepEqual(internalNameSets({ sites: [site(["localhost", "127.0.0.1", "::1"])] }), [["localhost", "127.0.0.1", "::1"]]);
  assert.deepEqual(internalNameSets({ sites: [site(["blog.localhost"]), site(["example.com"])] }), [["blog.localhost"]]);
  assert.deepEqual(internalNameSets({ sites: [site(["wiki.lan"], { internal: true }), site(["localhost"], { enabled: false })] }), [["wiki.lan"]]);
  assert.deepEqual(internalNameSets({ ca: "internal", sites: [site(["example.com"])] }), [["example.com"]]);
  assert.deepEqual(internalNameSets({ sites: [site(["localhost"], { internal: false })] }), []);
  // Loopback-only sites with a public CA (which would refuse them) stay internal; a private ACME
  // CA given by URL (Pebble, a company CA) is asked for them like for any name.
  assert.deepEqual(internalNameSets({ ca: "letsencrypt", sites: [site(["localhost", "127.0.0.1"])] }), [["localhost", "127.0.0.1"]]);
  assert.deepEqual(internalNameSets({ ca: "https://ca.example/directory", sites: [site(["localhost", "127.0.0.1"])] }), []);
});

test("installed at start, renewed before expiry, and the next handshake gets the new certificate", async () => {
  const ca = await InternalCa.open(new FolderKeyFileStore(path.join(scratch, "renew")), { leafLifetimeMs: 3000 });
  const cache = new CertificateCache();
  const installed: string[] = [];
  cache.onInstall((c) => installed.push(c.cert));
  const { log, lines } = capturingLog();
  const keeper = new InternalCertificates({ issuer: ca, cache, log, nameSets: [LOCAL_NAMES] });
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

    await until("a renewal", () => installed.length >= 2);
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
  const ca = await InternalCa.open(new FolderKeyFileStore(path.join(scratch, "failing")), { leafLifetimeMs: 600 });
  let calls = 0;
  const issuer = {
    issue: (names: string[]) => (calls++ === 0 ? ca.issue(names) : Promise.reject(new Error("storage is read-only"))),
  };
  const cache = new CertificateCache();
  const { log, lines } = capturingLog();
  const keeper = new InternalCertificates({ issuer, cache, log, nameSets: [["localhost"]], retry: { baseMs: 20, maxMs: 100 } });
  try {
    await keeper.start();
    const first = cache.lookup("localhost")!.cert;
    await until("two failed attempts", () => lines.filter((l) => /failed/.test(l.msg)).length >= 2);
    const warning = lines.find((l) => /failed/.test(l.msg))!;
    assert.equal(warning.level, 40);
    assert.match(warning.msg, /renewing the certificate for localhost failed \(storage is read-only\); the current one is still served; retrying in/);
    assert.equal(cache.lookup("localhost")!.cert, first);
  } finally {
    keeper.stop();
  }
});

