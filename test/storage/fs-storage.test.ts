// The folder storage: atomic private writes, listing, locks between holders (and taking over
// a dead holder's lock), and refusing a folder this user does not own.
import test from "node:test";
import assert from "node:assert/strict";
import { chownSync, readdirSync, statSync, utimesSync, writeFileSync, mkdirSync } from "node:fs";
import path from "node:path";
import { FsStorage } from "../../src/storage/fs-storage.js";
import { lookupUser } from "../../src/system/users.js";
import { tempDir } from "../support/env.js";

test("put/get/list/delete with private keys 0600 and no temp files left", async (t) => {
  const work = tempDir("storage");
  t.after(() => work.remove());
  const storage = await FsStorage.open(path.join(work.dir, "data"));
  assert.equal(statSync(path.join(work.dir, "data")).mode & 0o777, 0o700);
  await storage.put("certificates/ca/blog.test/key.pem", "KEY1", { secret: true });
  await storage.put("certificates/ca/blog.test/key.pem", "KEY2", { secret: true });
  await storage.put("certificates/ca/blog.test/cert.pem", "CERT");
  assert.equal((await storage.get("certificates/ca/blog.test/key.pem"))?.toString(), "KEY2");
  assert.equal(await storage.get("certificates/ca/other/key.pem"), undefined);
  assert.equal(statSync(path.join(work.dir, "data/certificates/ca/blog.test/key.pem")).mode & 0o777, 0o600);
  assert.deepEqual(await storage.list("certificates"), ["certificates/ca/blog.test/cert.pem", "certificates/ca/blog.test/key.pem"]);
  assert.deepEqual(readdirSync(path.join(work.dir, "data/certificates/ca/blog.test")).sort(), ["cert.pem", "key.pem"]);
  await storage.delete("certificates/ca/blog.test/cert.pem");
  assert.deepEqual(await storage.list("certificates/ca"), ["certificates/ca/blog.test/key.pem"]);
  await assert.rejects(storage.get("../escape"), /invalid storage key/);
});

test("a lock is exclusive until released", async (t) => {
  const work = tempDir("storage-lock");
  t.after(() => work.remove());
  const storage = await FsStorage.open(work.dir);
  const first = await storage.lock("order-blog", { pollMs: 10 });
  const events: string[] = [];
  const second = storage.lock("order-blog", { pollMs: 10 }).then((l) => (events.push("second acquired"), l));
  await new Promise((r) => setTimeout(r, 100));
  events.push("first releasing");
  await first.release();
  await (await second).release();
  assert.deepEqual(events, ["first releasing", "second acquired"]);
});

test("a dead holder's lock (not refreshed within its TTL) is taken over", async (t) => {
  const work = tempDir("storage-stale");
  t.after(() => work.remove());
  const storage = await FsStorage.open(work.dir);
  mkdirSync(path.join(work.dir, "locks"), { recursive: true });
  const lockFile = path.join(work.dir, "locks", "order-blog.lock");
  writeFileSync(lockFile, JSON.stringify({ pid: 999999, host: "gone" }));
  const past = new Date(Date.now() - 120_000);
  utimesSync(lockFile, past, past);
  const lock = await storage.lock("order-blog", { ttlMs: 60_000, pollMs: 10, timeoutMs: 5_000 });
  await lock.release();
  // A fresh lock is not taken over: this one times out.
  const held = await storage.lock("order-blog");
  await assert.rejects(storage.lock("order-blog", { ttlMs: 60_000, pollMs: 10, timeoutMs: 200 }), /timed out waiting for the lock/);
  await held.release();
});

test("a file inside the storage owned by another user stops opening it, naming file, owner and fix", async (t) => {
  assert.equal(process.getuid?.(), 0, "this test changes file owners; run the suite as root (CI does)");
  const work = tempDir("storage-owner");
  t.after(() => work.remove());
  const storage = await FsStorage.open(work.dir);
  await storage.put("accounts/ca/account.key", "KEY", { secret: true });
  const nobody = lookupUser("nobody")!;
  const file = path.join(work.dir, "accounts/ca/account.key");
  chownSync(file, nobody.uid, nobody.gid);
  await assert.rejects(FsStorage.open(work.dir), (err: Error) => {
    assert.equal(err.message, `the storage file ${file} is owned by nobody, but padlock runs as root and must own it. Fix: sudo chown -R root: ${work.dir}`);
    return true;
  });
});
