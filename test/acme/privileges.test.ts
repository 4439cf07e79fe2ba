// Started as root with `user:`, padlock binds its ports (a privileged one included), switches to
// that user, and everything it writes belongs to that user. Root-owned storage stops start-up
// with the command that fixes it.
import test from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { chmodSync, copyFileSync, mkdirSync, readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { lookupUser } from "../../src/system/users.js";
import { freePort, tempDir, waitFor } from "../support/env.js";
import { startPebble } from "../support/pebble.js";
import { httpsGet } from "../support/clients.js";
import { spawnPadlock, writeConfig } from "../support/padlock-process.js";

const isRoot = process.getuid?.() === 0;
const nobody = lookupUser("nobody")!;

/** A free port below 1024, which only root (or CAP_NET_BIND_SERVICE) may bind. */
async function freePrivilegedPort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 600 + Math.floor(Math.random() * 400);
    const free = await new Promise<boolean>((resolve) => {
      const s = net.createServer().once("error", () => resolve(false));
      s.listen(port, "127.0.0.1", () => s.close(() => resolve(true)));
    });
    if (free) return port;
  }
  throw new Error("no free port below 1024");
}

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    return e.isDirectory() ? [full, ...walk(full)] : [full];
  });
}

/** A folder every user may enter, for config, CA root and storage of a process run as nobody. */
function sharedWorkDir(t: test.TestContext, name: string): string {
  const work = tempDir(name);
  t.after(() => work.remove());
  chmodSync(work.dir, 0o755);
  return work.dir;
}

test("started as root with user: nobody — binds a privileged port, drops to nobody, leaves no root-owned file", async (t) => {
  assert.ok(isRoot, "this test starts padlock as root; run the suite as root (CI does)");
  const httpPort = await freePrivilegedPort();
  const pebble = await startPebble({ httpPort });
  t.after(() => pebble.stop());
  const dir = sharedWorkDir(t, "drop");
  const caRoot = path.join(dir, "ca-root.pem");
  copyFileSync(pebble.apiRootFile, caRoot);
  chmodSync(caRoot, 0o644);
  const storage = path.join(dir, "var", "padlock");
  const httpsPort = await freePort();
  const p = spawnPadlock([
    "serve", "--config", writeConfig(path.join(dir, "padlock.yaml"), { ca: pebble.directoryUrl, ca_root: caRoot, accept_terms: true, user: "nobody", storage, listen: "127.0.0.1", sites: [{ hosts: ["blog.test", "www.blog.test"], redirect: "https://x.test" }] }),
    "--log-format", "json", "--http-port", String(httpPort), "--https-port", String(httpsPort),
  ], { switchesUser: true });
  t.after(() => p.stop());
  const root = await pebble.issuingRoot();
  await waitFor("HTTPS from the process run as nobody", () => httpsGet("www.blog.test", httpsPort, root), 30_000, 50);

  assert.match(p.output(), /ports bound; now running as nobody \(uid 65534\) instead of root/);
  const status = readFileSync(`/proc/${p.child.pid}/status`, "utf8");
  assert.match(status, new RegExp(`\\nUid:\\s+${nobody.uid}\\s+${nobody.uid}\\s+${nobody.uid}\\s+${nobody.uid}\\n`), "real, effective, saved and fs uid are nobody's");
  // Stopped first: a running padlock may be renaming a status.json.*.tmp away mid-walk.
  await p.stop();
  const files = [storage, ...walk(storage)];
  assert.ok(files.some((f) => f.endsWith("key.pem")) && files.some((f) => f.endsWith("account.key")));
  for (const f of files) {
    assert.equal(statSync(f).uid, nobody.uid, `${f} belongs to nobody`);
    if (/\.(key|pem)$/.test(f) && /key/.test(path.basename(f))) assert.equal(statSync(f).mode & 0o777, 0o600, `${f} is 0600`);
  }
});

test("a root-owned storage folder stops start-up with its path, owner and the fix", async (t) => {
  assert.ok(isRoot, "this test starts padlock as root; run the suite as root (CI does)");
  const dir = sharedWorkDir(t, "root-owned");
  const storage = path.join(dir, "padlock-data");
  mkdirSync(path.join(storage, "certificates"), { recursive: true });
  const p = spawnPadlock([
    "serve", "--config", writeConfig(path.join(dir, "padlock.yaml"), { ca: "https://127.0.0.1:1/dir", accept_terms: true, user: "nobody", storage, listen: "127.0.0.1", sites: [{ hosts: ["blog.test"], redirect: "https://x.test" }] }),
    "--log-format", "json", "--http-port", String(await freePort()), "--https-port", String(await freePort()),
  ], { switchesUser: true });
  t.after(() => p.stop());
  assert.equal(await p.exited, 2);
  assert.match(p.output(), new RegExp(`padlock: the storage folder ${storage.replace(/[.]/g, "\\.")} is owned by root, but padlock runs as nobody and must own it\\. Fix: sudo chown -R nobody: ${storage.replace(/[.]/g, "\\.")}`));
  assert.doesNotMatch(p.output(), /\n\s+at /, "no stack trace");
});

test("a ca_root only root can read still works with user: nobody: it is read before the privilege drop", async (t) => {
  assert.ok(isRoot, "this test starts padlock as root; run the suite as root (CI does)");
  const httpPort = await freePort();
  const pebble = await startPebble({ httpPort });
  t.after(() => pebble.stop());
  const dir = sharedWorkDir(t, "root-only-ca-root");
  const secret = path.join(dir, "root-only");
  mkdirSync(secret, { mode: 0o700 });
  const caRoot = path.join(secret, "ca-root.pem");
  copyFileSync(pebble.apiRootFile, caRoot);
  chmodSync(caRoot, 0o600);
  const config = writeConfig(path.join(dir, "padlock.yaml"), { ca: pebble.directoryUrl, ca_root: caRoot, accept_terms: true, user: "nobody", storage: path.join(dir, "data"), listen: "127.0.0.1", sites: [{ hosts: ["blog.test"], redirect: "https://x.test" }] });
  const p = spawnPadlock(["serve", "--config", config, "--log-format", "json", "--http-port", String(httpPort), "--https-port", String(await freePort())], { switchesUser: true });
  t.after(() => p.stop());
  await waitFor("the certificate", () => p.logLines().some((l) => /installed certificate/.test(String(l.msg))) || p.child.exitCode !== null, 30_000);
  assert.equal(p.child.exitCode, null, p.output());
  await p.stop(); // before the folder is removed: padlock still writes into it
});
