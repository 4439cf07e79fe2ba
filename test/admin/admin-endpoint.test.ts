// The admin endpoint without a CA: a Unix socket (0600, a stale one replaced, a live one left to
// its owner) and loopback TCP that refuses requests without the token kept in storage.
import test from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { pino } from "pino";
import { freePort, tempDir } from "../support/env.js";
import { AdminServer } from "../../src/admin/admin-server.js";
import { adminRequest, AdminError, PadlockNotRunning } from "../../src/admin/admin-client.js";
import { ADMIN_PATHS, type ListAnswer } from "../../src/admin/admin-protocol.js";
import { FsStorage } from "../../src/storage/fs-storage.js";

const log = pino({ level: "silent" });

test("admin socket: private, replaces a stale socket file, leaves a live one to the padlock that owns it", async (t) => {
  const work = tempDir("admin-socket");
  t.after(() => work.remove());
  const storage = await FsStorage.open(path.join(work.dir, "data"));
  const endpoint = { kind: "socket" as const, path: path.join(storage.root, "admin.sock") };
  await assert.rejects(adminRequest(endpoint, "GET", ADMIN_PATHS.list), PadlockNotRunning);

  // A socket file nobody listens on, as a padlock killed with SIGKILL leaves it.
  spawnSync(process.execPath, ["-e", `require("net").createServer().listen(${JSON.stringify(endpoint.path)}, () => process.kill(process.pid, "SIGKILL"))`]);
  assert.ok(statSync(endpoint.path).isSocket());
  await assert.rejects(adminRequest(endpoint, "GET", ADMIN_PATHS.list), PadlockNotRunning);

  const server = await AdminServer.start({ endpoint, storage, log });
  assert.ok(server);
  t.after(() => server.close());
  assert.equal(statSync(endpoint.path).mode & 0o777, 0o600);
  assert.deepEqual(await adminRequest<ListAnswer>(endpoint, "GET", ADMIN_PATHS.list), { certificates: [] });
  await assert.rejects(adminRequest(endpoint, "POST", ADMIN_PATHS.renew, { name: "blog.test" }), /no site of the running padlock has blog\.test; it manages no certificates/);
  await assert.rejects(adminRequest(endpoint, "POST", ADMIN_PATHS.forget, { name: "blog.test" }), /no stored certificate for blog\.test \(storage holds none\)/);

  assert.equal(await AdminServer.start({ endpoint, storage, log }), undefined, "a second padlock on the same storage leaves the socket alone");
  assert.deepEqual(await adminRequest<ListAnswer>(endpoint, "GET", ADMIN_PATHS.list), { certificates: [] });
});

test("admin on loopback TCP: the token from storage is required", async (t) => {
  const work = tempDir("admin-tcp");
  t.after(() => work.remove());
  const storage = await FsStorage.open(path.join(work.dir, "data"));
  const tokenFile = path.join(storage.root, "admin.token");
  const endpoint = { kind: "tcp" as const, host: "127.0.0.1", port: await freePort(), tokenFile };
  await assert.rejects(adminRequest(endpoint, "GET", ADMIN_PATHS.list), /padlock is not running \(no admin token at/);
  const server = await AdminServer.start({ endpoint, storage, log });
  t.after(() => server!.close());
  assert.equal(statSync(tokenFile).mode & 0o777, 0o600);
  assert.deepEqual(await adminRequest<ListAnswer>(endpoint, "GET", ADMIN_PATHS.list), { certificates: [] });
  writeFileSync(tokenFile, "guessed");
  await assert.rejects(adminRequest(endpoint, "GET", ADMIN_PATHS.list), (err: unknown) => err instanceof AdminError && /the admin token is missing or wrong/.test(err.message));
});
