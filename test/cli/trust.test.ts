// `padlock trust` run as a real process: it prints the root and where it is, installs it into an
// NSS database only when asked, and without permission for the system store says exactly what to
// run with sudo. Tests run as root, so the permission case runs as `nobody` (setpriv).
import test, { after, before } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { runPadlock, type RunResult } from "../support/padlock-process.js";
import { tempDir } from "../support/env.js";

const run = promisify(execFile);
const tmp = tempDir("trust");
const scratch = tmp.dir;

before(async () => {
  await chmod(scratch, 0o755); // readable by `nobody` in the permission test
});

after(async () => {
  tmp.remove();
});

function padlock(args: string[], options: { env?: NodeJS.ProcessEnv; asNobody?: boolean } = {}): Promise<RunResult> {
  return runPadlock(args, { env: options.env, asUser: options.asNobody ? { user: "nobody", group: "nogroup" } : undefined });
}

function printedPem(stdout: string): string {
  const pem = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n/.exec(stdout)?.[0];
  assert.ok(pem, `no certificate in:\n${stdout}`);
  return pem;
}

test("prints the root (PEM, SHA-256 fingerprint, where it is stored), creating it once", async () => {
  const storage = path.join(scratch, "print");
  const first = await padlock(["trust", "--storage", storage]);
  assert.equal(first.code, 0, first.stderr);
  const stored = path.join(storage, "internal-ca", "root.crt");
  assert.match(first.stdout, new RegExp(`stored at: +${stored.replace(/[.]/g, "\\.")} +\\(created just now\\)`));
  const pem = printedPem(first.stdout);
  assert.equal(pem, await readFile(stored, "utf8"));
  assert.ok(first.stdout.includes(`SHA-256:     ${new X509Certificate(pem).fingerprint256}`));
  const { stdout: opensslFingerprint } = await run("openssl", ["x509", "-noout", "-fingerprint", "-sha256", "-in", stored]);
  assert.ok(opensslFingerprint.includes(new X509Certificate(pem).fingerprint256));
  assert.match(first.stdout, /padlock trust --install/);

  const second = await padlock(["trust", "--storage", storage]);
  assert.equal(printedPem(second.stdout), pem, "the same root, not a new one");
  assert.doesNotMatch(second.stdout, /created just now/);
});

test("the storage folder comes from the config, relative to the config file", async () => {
  const dir = path.join(scratch, "from-config");
  await mkdir(dir);
  await writeFile(path.join(dir, "padlock.yaml"), "storage: ./data\nsites:\n  - hosts: [localhost]\n    static: .\n");
  const result = await padlock(["trust", "--config", path.join(dir, "padlock.yaml")]);
  assert.equal(result.code, 0, result.stderr);
  assert.ok(existsSync(path.join(dir, "data", "internal-ca", "root.crt")));
  assert.ok(result.stdout.includes(path.join(dir, "data", "internal-ca", "root.crt")));
});

test("--install --only nss adds the root, trusted for TLS servers, to $HOME/.pki/nssdb", async () => {
  const storage = path.join(scratch, "nss");
  const home = path.join(scratch, "nss-home");
  await mkdir(home);
  const result = await padlock(["trust", "--storage", storage, "--install", "--only", "nss"], { env: { HOME: home } });
  assert.equal(result.code, 0, result.stderr);
  const db = path.join(home, ".pki", "nssdb");
  const nickname = /as "(padlock local root [0-9A-F]{8})"/.exec(result.stdout)?.[1];
  assert.ok(nickname, result.stdout);
  const { stdout: listing } = await run("certutil", ["-L", "-d", `sql:${db}`]);
  assert.match(listing, new RegExp(`${nickname} +C,,`));
  const { stdout: exported } = await run("certutil", ["-L", "-d", `sql:${db}`, "-n", nickname, "-a"]);
  assert.equal(new X509Certificate(exported).fingerprint256, new X509Certificate(printedPem(result.stdout)).fingerprint256);
});

test("without permission for the system trust store: a clear message with the sudo command, exit 1", async () => {
  const storage = path.join(scratch, "nobody");
  const created = await padlock(["trust", "--storage", storage]);
  assert.equal(created.code, 0, created.stderr);
  await chmod(storage, 0o755);
  await chmod(path.join(storage, "internal-ca"), 0o755);
  const target = "/usr/local/share/ca-certificates/padlock-root.crt";
  const installedBefore = existsSync(target);

  const result = await padlock(["trust", "--storage", storage, "--install", "--only", "system"], { asNobody: true, env: { HOME: scratch } });
  assert.equal(result.code, 1);
  assert.ok(result.stderr.includes(`not allowed to write ${target}`), result.stderr);
  assert.ok(result.stderr.includes(`sudo cp ${path.join(storage, "internal-ca", "root.crt")} ${target} && sudo update-ca-certificates`), result.stderr);
  assert.doesNotMatch(result.stderr, /\n\s+at /, "no stack trace");
  assert.equal(existsSync(target), installedBefore, "the system store is untouched");
});

test("--only without --install is refused", async () => {
  const result = await padlock(["trust", "--storage", path.join(scratch, "only"), "--only", "nss"]);
  assert.equal(result.code, 2);
  assert.match(result.stderr, /--only chooses where --install installs; add --install/);
});
