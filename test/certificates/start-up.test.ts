// While padlock reads what its storage holds, its listener is already open: a handshake for a
// name whose certificate is still being read is told so, not that padlock obtains none for it.
// The read is held up for real: the set's meta.json is a FIFO that gets its bytes only when the
// test has seen the handshake's log line.
import test from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { constants, readFileSync, unlinkSync, writeFileSync } from "node:fs";
import { open } from "node:fs/promises";
import path from "node:path";
import { caId, setFolder } from "../../src/certificates/store-layout.js";
import { switchIn } from "../../src/certificates/stored-set.js";
import { FsStorage } from "../../src/storage/fs-storage.js";
import { readCertificate } from "../../src/tls/certificate-info.js";
import { InternalCa } from "../../src/tls/internal-ca.js";
import { FolderKeyFileStore } from "../../src/tls/key-files.js";
import { httpsGet } from "../support/clients.js";
import { freePort, tempDir, waitFor } from "../support/env.js";
import { spawnPadlock, writeConfig, type PadlockProcess } from "../support/padlock-process.js";
import { accepts } from "../support/redis.js";

// No CA answers here: the stored certificate is fresh, so none is ordered.
const DIRECTORY = "https://127.0.0.1:9/directory";

test("a handshake while stored certificates are still being read is told padlock is starting; the stored certificate follows", async (t) => {
  const work = tempDir("start-up");
  let p: PadlockProcess | undefined;
  // padlock stops before its storage is removed: still running, it writes into what is being removed.
  t.after(async () => {
    await p?.stop("SIGKILL"); // a read blocked on the FIFO would hold up a graceful stop
    work.remove();
  });
  const ca = await InternalCa.open(new FolderKeyFileStore(path.join(work.dir, "ca")));
  const storage = await FsStorage.open(path.join(work.dir, "data"));
  const issued = await ca.issue(["blog.test"]);
  const info = readCertificate(issued.chainPem);
  const folder = setFolder(caId(DIRECTORY), ["blog.test"]);
  const meta = { names: ["blog.test"], ca: DIRECTORY, keyType: "ecdsa-p256" as const, serial: info.serial, notBefore: info.notBefore.toISOString(), notAfter: info.notAfter.toISOString(), issuedAt: info.notBefore.toISOString() };
  await switchIn(storage, folder, { chainPem: issued.chainPem, keyPem: issued.keyPem, info, meta });
  const metaFile = path.join(work.dir, "data", folder, "meta.json");
  const metaBytes = readFileSync(metaFile);
  unlinkSync(metaFile);
  execFileSync("mkfifo", ["-m", "600", metaFile]);

  const config = writeConfig(path.join(work.dir, "padlock.yaml"), { ca: DIRECTORY, storage: "data", listen: "127.0.0.1", sites: [{ hosts: ["blog.test"], redirect: "https://elsewhere.test" }] });
  const httpsPort = await freePort();
  p = spawnPadlock(["serve", "--config", config, "--log-format", "json", "--http-port", "0", "--https-port", String(httpsPort)], { cwd: work.dir });
  await waitFor("the HTTPS listener", () => accepts(httpsPort), 30_000);
  await assert.rejects(httpsGet("blog.test", httpsPort, ca.rootCertificatePem), "no certificate is served before storage is read");
  const said = () => p.logLines().map((l) => String(l.msg)).find((m) => m.startsWith("TLS handshake for blog.test"));
  await waitFor("the handshake's log line", said, 10_000);
  assert.equal(said(), "TLS handshake for blog.test: no certificate yet: padlock is starting and has not read its certificates yet");

  // meta.json's reader gets its bytes; later reads find a regular file.
  // Opened without blocking, once padlock holds the FIFO open for reading (a blocking open would wait forever for a padlock that died).
  const fifo = await waitFor("padlock to open meta.json", () => open(metaFile, constants.O_WRONLY | constants.O_NONBLOCK).catch(() => undefined), 10_000);
  unlinkSync(metaFile);
  writeFileSync(metaFile, metaBytes);
  await fifo.writeFile(metaBytes);
  await fifo.close();
  await p.serving();
  const answer = await httpsGet("blog.test", httpsPort, ca.rootCertificatePem);
  assert.equal(answer.serial, info.serial, "the stored certificate, read once storage answered");
});
