// Every claim of the doctor's storage check, on real folders, with the check run both as root
// (in this process) and as a normal user (`nobody`, in a process of its own): a folder that
// padlock will create (as root for `user:`, or as the user), one it cannot, not a folder, not
// writable, owned by someone else, healthy; inside it entries owned by root, open keys, a folder
// the doctor cannot look into; a serving user that does not exist, root, or one padlock cannot
// switch to. Plus `padlock doctor` itself run as nobody.
import test, { after, before } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { chmodSync, chownSync, cpSync, mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { CheckResult } from "../../src/doctor/check-result.js";
import { checkStorage, type StorageOptions } from "../../src/doctor/checks/storage.js";
import { userByName } from "../../src/doctor/system-users.js";
import { packageRoot } from "../../src/paths.js";
import { FakeAcmeDirectory } from "../support/fake-acme-directory.js";
import { folderForAll, freePort, tempDir } from "../support/env.js";
import { runPadlock } from "../support/padlock-process.js";
import { writeDoctorConfig } from "../support/doctor-config.js";

const nobody = userByName("nobody")!;
const nogroup = "nogroup";
let directory: FakeAcmeDirectory;
const made: (() => void)[] = [];

before(async () => {
  assert.equal(process.getuid?.(), 0, "these tests change owners and run the check as nobody; run the suite as root (CI does)");
  directory = await FakeAcmeDirectory.start();
});
after(async () => {
  await directory.close();
  for (const remove of made) remove();
});

/** A folder every user may enter. */
function openTempDir(): string {
  const { dir, remove } = tempDir("storage");
  chmodSync(dir, 0o755);
  made.push(remove);
  return dir;
}

function folderOwnedBy(uid: number, gid: number, mode = 0o700): string {
  const dir = path.join(openTempDir(), "data");
  mkdirSync(dir, { mode });
  chmodSync(dir, mode);
  chownSync(dir, uid, gid);
  return dir;
}

function fileIn(dir: string, name: string, owner: { uid: number; gid: number }, mode = 0o600): string {
  const file = path.join(dir, name);
  writeFileSync(file, "x", { mode });
  chmodSync(file, mode);
  chownSync(file, owner.uid, owner.gid);
  return file;
}

/** The compiled sources, copied where nobody may load them (the checkout may be in a folder it may not enter). */
function compiledSourcesForAll(): string {
  return folderForAll("compiled", (dir) => {
    cpSync(path.join(packageRoot, "dist", "src"), path.join(dir, "src"), { recursive: true });
    writeFileSync(path.join(dir, "package.json"), JSON.stringify({ type: "module" }));
  });
}

/** The check as a normal user: a process of its own running as nobody. */
function asNobody(options: StorageOptions): CheckResult[] {
  const script = `import(${JSON.stringify(path.join(compiledSourcesForAll(), "src/doctor/checks/storage.js"))}).then((m) => process.stdout.write(JSON.stringify(m.checkStorage(JSON.parse(process.argv[1])))))`;
  const out = execFileSync("setpriv", ["--reuid=nobody", `--regid=${nogroup}`, "--clear-groups", process.execPath, "-e", script, JSON.stringify(options)], { encoding: "utf8" });
  return JSON.parse(out) as CheckResult[];
}

const root = { uid: 0, gid: 0 };
const summary = (rows: CheckResult[]) => rows.map((r) => `${r.status} ${r.check}: ${r.found}${r.fix ? ` | ${r.fix}` : ""}`);

/** Runs one claim both ways and compares each with what it should say. */
function claim(options: StorageOptions, expected: { root: string[]; nobody: string[] }): void {
  assert.deepEqual(summary(checkStorage(options)), expected.root, "run as root");
  assert.deepEqual(summary(asNobody(options)), expected.nobody, "run as nobody");
}

test("a folder that does not exist yet: created for user: by padlock started as root; by the user itself where it may write", () => {
  const locked = folderOwnedBy(0, 0, 0o755);
  const dir = path.join(locked, "data");
  claim(
    { dir, user: "nobody" },
    {
      // Started as root, serve creates it for nobody (the doctor said "cannot be created").
      root: [`ok storage: ${dir} does not exist yet; padlock, started as root, creates it for nobody before switching to that user`],
      nobody: [`fail storage: ${dir} does not exist and nobody cannot create it in ${locked} | sudo install -d -m 700 -o nobody -g ${nogroup} ${dir}`],
    },
  );
  const open = folderOwnedBy(nobody.uid, nobody.gid, 0o755);
  const nested = path.join(open, "var", "padlock");
  claim(
    { dir: nested },
    {
      root: ["warn serving user: padlock would keep running as root after binding its ports | add user: padlock to the config (create it with: sudo useradd --system padlock)", `ok storage: ${nested} does not exist yet; padlock will create it as root`],
      nobody: [`ok storage: ${nested} does not exist yet; padlock will create it as nobody`],
    },
  );
});

test("not a folder", () => {
  const file = path.join(openTempDir(), "data");
  writeFileSync(file, "");
  claim({ dir: file, user: "nobody" }, { root: [`fail storage: ${file} is not a folder | point storage: at a folder`], nobody: [`fail storage: ${file} is not a folder | point storage: at a folder`] });
});

test("not writable by the serving user: by the folder's mode as root, by a real write as nobody", () => {
  const dir = folderOwnedBy(0, 0, 0o755);
  claim(
    { dir, user: "nobody" },
    {
      root: [`fail storage: ${dir} is not writable by nobody (owner root, group root, mode 755) | sudo chown -R nobody:${nogroup} ${dir}`, "ok storage contents: 0 entries, all owned by nobody; keys 0600"],
      nobody: [`fail storage: ${dir} is not writable by nobody (owner root, group root, mode 755; writing failed with EACCES) | sudo chown -R nobody:${nogroup} ${dir}`, "ok storage contents: 0 entries, all owned by nobody; keys 0600"],
    },
  );
});

test("writable but owned by someone else: padlock refuses to start on it, so the doctor fails it (it used to warn)", () => {
  const dir = folderOwnedBy(0, 0, 0o777);
  const expected = [`fail storage: ${dir} is owned by root, but padlock serves as nobody and must own it (it refuses to start otherwise) | sudo chown -R nobody:${nogroup} ${dir}`, "ok storage contents: 0 entries, all owned by nobody; keys 0600"];
  claim({ dir, user: "nobody" }, { root: expected, nobody: expected });
});

test("a healthy folder", () => {
  const dir = folderOwnedBy(nobody.uid, nobody.gid);
  fileIn(dir, "account.key", nobody);
  const expected = [`ok storage: ${dir} exists, is owned by nobody and writable`, "ok storage contents: 1 entry, all owned by nobody; keys 0600"];
  claim({ dir, user: "nobody" }, { root: expected, nobody: expected });
});

test("inside: a root-owned key, and keys readable by others, with the commands that fix them", () => {
  const dir = folderOwnedBy(nobody.uid, nobody.gid);
  const rootKey = fileIn(dir, "blog.example.key", root);
  const openKey = fileIn(dir, "account-key.pem", nobody, 0o644);
  const expected = [
    `ok storage: ${dir} exists, is owned by nobody and writable`,
    `fail storage contents: owned by root while padlock serves as nobody: ${rootKey}; private keys readable by others: ${openKey} (mode 644) | sudo chown -R nobody:${nogroup} ${dir} && chmod 600 ${openKey}`,
  ];
  claim({ dir, user: "nobody" }, { root: expected, nobody: expected });
});

test("every file root-owned while padlock serves as root: said as it is (it used to say 'none owned by root')", () => {
  const dir = folderOwnedBy(0, 0);
  mkdirSync(path.join(dir, "certificates"));
  fileIn(path.join(dir, "certificates"), "key.pem", root);
  claim(
    { dir },
    {
      root: [
        "warn serving user: padlock would keep running as root after binding its ports | add user: padlock to the config (create it with: sudo useradd --system padlock)",
        `ok storage: ${dir} exists, is owned by root and writable`,
        "ok storage contents: 2 entries, all owned by root; keys 0600",
      ],
      // Serving as nobody (no user:), that folder is root's: nobody can neither write nor look into it.
      nobody: [
        `fail storage: ${dir} is not writable by nobody (owner root, group root, mode 700; writing failed with EACCES) | sudo chown -R nobody:${nogroup} ${dir}`,
        `warn storage contents: could not look inside ${dir} (EACCES) | run padlock doctor as nobody or root to check what is inside`,
      ],
    },
  );
});

test("a folder inside that the doctor cannot look into is said so, not passed over", () => {
  const dir = folderOwnedBy(nobody.uid, nobody.gid, 0o755);
  const hidden = path.join(dir, "accounts");
  mkdirSync(hidden, { mode: 0o700 });
  chownSync(hidden, 0, 0);
  fileIn(hidden, "account.key", root);
  claim(
    { dir, user: "nobody" },
    {
      root: [`ok storage: ${dir} exists, is owned by nobody and writable`, `fail storage contents: owned by root while padlock serves as nobody: ${hidden}, ${hidden}/account.key | sudo chown -R nobody:${nogroup} ${dir}`],
      nobody: [`ok storage: ${dir} exists, is owned by nobody and writable`, `fail storage contents: owned by root while padlock serves as nobody: ${hidden}; could not look inside ${hidden} (EACCES) | sudo chown -R nobody:${nogroup} ${dir}`],
    },
  );
});

test("the serving user: one that does not exist, root, and one a non-root padlock cannot switch to", () => {
  const dir = folderOwnedBy(nobody.uid, nobody.gid);
  const missing = ['fail storage: user "no-such-padlock-user" (config user:) does not exist on this machine | create that user (useradd --system padlock) or change user: in the config'];
  claim({ dir, user: "no-such-padlock-user" }, { root: missing, nobody: missing });
  const asRoot = summary(checkStorage({ dir, user: "root" }));
  assert.equal(asRoot[0], "warn serving user: padlock would keep running as root after binding its ports | add user: padlock to the config (create it with: sudo useradd --system padlock)");
  const daemon = userByName("daemon")!;
  const other = summary(asNobody({ dir, user: "daemon" }));
  assert.equal(other[0], `fail serving user: user: daemon is set, but started as nobody (not root) padlock cannot switch to it | start padlock as root (it switches to daemon after binding its ports) or as daemon`);
  assert.ok(daemon.uid !== nobody.uid);
});

test("padlock doctor run as nobody: a root-owned storage folder is unwritable, with path, owner and the chown that fixes it", async () => {
  const { file, dir } = writeDoctorConfig({
    ca: directory.url,
    accept_terms: true,
    storage: "data",
    listen: "127.0.0.1",
    http_port: await freePort(),
    https_port: await freePort(),
    sites: [{ hosts: ["127.0.0.1"], redirect: "https://example.org" }],
  });
  chmodSync(dir, 0o755);
  chmodSync(file, 0o644);
  mkdirSync(path.join(dir, "data"), { mode: 0o755 });
  const data = path.join(dir, "data");
  const run = await runPadlock(["doctor", "--config", file, "--json", "--timeout", "5"], { asUser: { user: "nobody", group: nogroup } });
  assert.equal(run.stderr, "");
  assert.equal(run.code, 1);
  const storage = (JSON.parse(run.stdout) as { results: CheckResult[] }).results.find((r) => r.check === "storage")!;
  assert.equal(storage.status, "fail");
  assert.equal(storage.found, `${data} is not writable by nobody (owner root, group root, mode 755; writing failed with EACCES)`);
  assert.equal(storage.fix, `sudo chown -R nobody:${nogroup} ${data}`);
});
