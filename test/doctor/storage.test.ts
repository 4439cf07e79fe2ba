// Storage checks on real folders: unwritable for the serving user (the doctor itself run as
// `nobody`), root-owned files inside, keys readable by others, a folder still to be created.
import test, { after, before } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, chownSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { CheckResult } from "../../src/doctor/check-result.js";
import { checkStorage } from "../../src/doctor/checks/storage.js";
import { userByName } from "../../src/doctor/system-users.js";
import { FakeAcmeDirectory } from "../support/fake-acme-directory.js";
import { freePort } from "../support/env.js";
import { runPadlock } from "../support/padlock-process.js";
import { writeDoctorConfig } from "../support/doctor-config.js";

const nobody = userByName("nobody")!;
const nogroup = "nogroup";
let directory: FakeAcmeDirectory;

before(async () => {
  directory = await FakeAcmeDirectory.start();
});
after(() => directory.close());

function tempDir(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), "padlock-storage-"));
  chmodSync(dir, 0o755);
  return dir;
}

function folderOwnedBy(uid: number, gid: number, mode = 0o700): string {
  const dir = path.join(tempDir(), "data");
  mkdirSync(dir, { mode });
  chmodSync(dir, mode);
  chownSync(dir, uid, gid);
  return dir;
}

const byCheck = (rows: CheckResult[], check: string) => rows.find((r) => r.check === check);

test("run as nobody, a root-owned storage folder is unwritable: path, owner and the chown that fixes it", async () => {
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
  const storage = byCheck((JSON.parse(run.stdout) as { results: CheckResult[] }).results, "storage")!;
  assert.equal(storage.status, "fail");
  assert.equal(storage.found, `${data} is not writable by nobody (owner root, group root, mode 755; writing failed with EACCES)`);
  assert.equal(storage.fix, `sudo chown -R nobody:${nogroup} ${data}`);
});

test("the serving user from the config is judged by the folder's mode when the doctor is root", () => {
  const data = folderOwnedBy(0, 0, 0o755);
  const [storage] = checkStorage({ dir: data, user: "nobody" });
  assert.equal(storage!.status, "fail");
  assert.equal(storage!.found, `${data} is not writable by nobody (owner root, group root, mode 755)`);
  assert.equal(storage!.fix, `sudo chown -R nobody:${nogroup} ${data}`);
});

test("a root-owned key inside nobody's folder is found, with the chown that fixes it", () => {
  const data = folderOwnedBy(nobody.uid, nobody.gid);
  mkdirSync(path.join(data, "certificates"));
  chownSync(path.join(data, "certificates"), nobody.uid, nobody.gid);
  const key = path.join(data, "certificates", "blog.example.key");
  writeFileSync(key, "key", { mode: 0o600 });
  const rows = checkStorage({ dir: data, user: "nobody" });
  assert.equal(byCheck(rows, "storage")!.status, "ok");
  const contents = byCheck(rows, "storage contents")!;
  assert.equal(contents.status, "fail");
  assert.equal(contents.found, `owned by root while padlock serves as nobody: ${key}`);
  assert.equal(contents.fix, `sudo chown -R nobody:${nogroup} ${data}`);
});

test("private keys readable by others are listed with chmod 600", () => {
  const data = folderOwnedBy(nobody.uid, nobody.gid);
  const key = path.join(data, "account-key.pem");
  const cert = path.join(data, "blog.example.crt");
  writeFileSync(key, "key", { mode: 0o644 });
  writeFileSync(cert, "cert", { mode: 0o644 });
  chmodSync(key, 0o644);
  chownSync(key, nobody.uid, nobody.gid);
  chownSync(cert, nobody.uid, nobody.gid);
  const contents = byCheck(checkStorage({ dir: data, user: "nobody" }), "storage contents")!;
  assert.equal(contents.status, "fail");
  assert.equal(contents.found, `private keys readable by others: ${key} (mode 644)`);
  assert.equal(contents.fix, `chmod 600 ${key}`);
});

test("a healthy folder passes; a folder owned by someone else but writable warns", () => {
  const healthy = checkStorage({ dir: folderOwnedBy(nobody.uid, nobody.gid), user: "nobody" });
  assert.deepEqual(healthy.map((r) => r.status), ["ok", "ok"]);
  const shared = folderOwnedBy(0, 0, 0o777);
  const storage = byCheck(checkStorage({ dir: shared, user: "nobody" }), "storage")!;
  assert.equal(storage.status, "warn");
  assert.equal(storage.found, `${shared} is owned by root, not by nobody who serves`);
});

test("a missing folder: fine when the serving user can create it, else the install command", () => {
  const parent = folderOwnedBy(nobody.uid, nobody.gid);
  const [creatable] = checkStorage({ dir: path.join(parent, "data"), user: "nobody" });
  assert.equal(creatable!.status, "ok");
  assert.match(creatable!.found, /does not exist yet; padlock will create it as nobody/);
  const locked = folderOwnedBy(0, 0, 0o755);
  const [blocked] = checkStorage({ dir: path.join(locked, "data"), user: "nobody" });
  assert.equal(blocked!.status, "fail");
  assert.equal(blocked!.fix, `sudo install -d -m 700 -o nobody -g ${nogroup} ${path.join(locked, "data")}`);
});

test("a serving user that does not exist is named", () => {
  const [row] = checkStorage({ dir: tempDir(), user: "no-such-padlock-user" });
  assert.equal(row!.status, "fail");
  assert.equal(row!.found, 'user "no-such-padlock-user" (config user:) does not exist on this machine');
});

test("serving as root is a warning: padlock should drop to a user after binding", () => {
  const rows = checkStorage({ dir: tempDir(), user: "root" });
  const user = byCheck(rows, "serving user")!;
  assert.equal(user.status, "warn");
  assert.match(user.fix, /add user: padlock/);
});
