// The folder storage: atomic private writes, listing, locks between holders (which record who
// holds them; a holder known to be dead is taken over at once, a live one is waited for), writes
// that fail for real (a read-only mount) named with path, error code and fix, and refusing a
// folder this user does not own.
import test from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { hostname } from "node:os";
import { chownSync, readdirSync, readFileSync, statSync, utimesSync, writeFileSync, mkdirSync } from "node:fs";
import path from "node:path";
import { FsStorage } from "../../src/storage/fs-storage.js";
import type { LockEvent } from "../../src/storage/storage.js";
import { lookupUser } from "../../src/system/users.js";
import { packageRoot } from "../../src/paths.js";
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

test("a lock records its holder; a holder on this host whose process is gone is taken over at once, with the reason", async (t) => {
  const work = tempDir("storage-dead-holder");
  t.after(() => work.remove());
  const storage = await FsStorage.open(work.dir);
  const held = await storage.lock("order-blog");
  const record = JSON.parse(readFileSync(path.join(work.dir, "locks", "order-blog.lock"), "utf8")) as Record<string, unknown>;
  assert.equal(record.host, hostname());
  assert.equal(record.pid, process.pid);
  assert.equal(typeof record.started, "string");
  assert.equal(typeof record.since, "string");
  await held.release();

  // A process that has exited, as a padlock killed with SIGKILL: its lock's lease is still fresh.
  const child = spawn(process.execPath, ["-e", "setTimeout(() => {}, 60_000)"], { stdio: "ignore" });
  const pid = child.pid!;
  const startTicks = Number(readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ")[19]);
  child.kill("SIGKILL");
  await new Promise((r) => child.once("exit", r));
  mkdirSync(path.join(work.dir, "locks"), { recursive: true });
  writeFileSync(path.join(work.dir, "locks", "order-blog.lock"), JSON.stringify({ host: hostname(), pid, started: "2025-01-01T00:00:00.000Z", startTicks, since: "2025-01-01T00:00:01.000Z", id: "dead", leaseMs: 600_000 }));
  const events: LockEvent[] = [];
  const lock = await storage.lock("order-blog", { pollMs: 10, timeoutMs: 2_000, onEvent: (e) => events.push(e) });
  await lock.release();
  assert.deepEqual(
    events.map((e) => (e.type === "taken-over" ? [e.type, e.holder.pid, e.why] : [e.type])),
    [["taken-over", pid, `its process (pid ${pid} on ${hostname()} (started 2025-01-01T00:00:00.000Z)) is no longer running`]],
  );
});

test("a live holder elsewhere is waited for, named once with the end of its lease; an unrenewed lease is taken over", async (t) => {
  const work = tempDir("storage-live-holder");
  t.after(() => work.remove());
  const storage = await FsStorage.open(work.dir);
  mkdirSync(path.join(work.dir, "locks"), { recursive: true });
  const file = path.join(work.dir, "locks", "order-blog.lock");
  writeFileSync(file, JSON.stringify({ host: "other-host", pid: 4242, started: "2025-01-01T00:00:00.000Z", since: "2025-01-01T00:00:05.000Z", id: "elsewhere", leaseMs: 300 }));
  const touched = statSync(file).mtimeMs;
  const events: LockEvent[] = [];
  const lock = await storage.lock("order-blog", { pollMs: 20, timeoutMs: 5_000, onEvent: (e) => events.push(e) });
  await lock.release();
  assert.equal(events.length, 2, JSON.stringify(events));
  const [waiting, takeOver] = events as [LockEvent, LockEvent];
  const leaseEnds = new Date(touched + 300);
  assert.equal(waiting.type, "waiting");
  assert.equal(waiting.type === "waiting" && `${waiting.holder.host} ${waiting.holder.pid} ${waiting.holder.since}`, "other-host 4242 2025-01-01T00:00:05.000Z");
  assert.equal(waiting.type === "waiting" && waiting.leaseEnds.getTime(), leaseEnds.getTime());
  assert.equal(takeOver.type === "taken-over" && takeOver.why, `its lease ended at ${leaseEnds.toISOString()} without being renewed`);
});

test("a lock file that is not a lock record is set aside as damaged and the lock taken", async (t) => {
  const work = tempDir("storage-damaged-lock");
  t.after(() => work.remove());
  const storage = await FsStorage.open(work.dir);
  mkdirSync(path.join(work.dir, "locks"), { recursive: true });
  writeFileSync(path.join(work.dir, "locks", "order-blog.lock"), "{\"pid\": 12");
  const events: LockEvent[] = [];
  const lock = await storage.lock("order-blog", { pollMs: 10, timeoutMs: 2_000, onEvent: (e) => events.push(e) });
  await lock.release();
  assert.equal(events.length, 1);
  const damaged = events[0]!;
  assert.equal(damaged.type, "damaged");
  assert.match(damaged.type === "damaged" ? damaged.problem : "", /^not a lock record \(.*JSON/);
  const copy = readdirSync(path.join(work.dir, "locks")).find((f) => /^order-blog\.lock\.damaged-\d{8}T\d{6}\.\d{3}Z$/.test(f));
  assert.ok(copy, `a damaged copy in ${readdirSync(path.join(work.dir, "locks")).join(", ")}`);
  assert.equal(damaged.type === "damaged" && damaged.copy, path.join(work.dir, "locks", copy));
  assert.equal(readFileSync(path.join(work.dir, "locks", copy), "utf8"), "{\"pid\": 12", "kept as it was");
});

test("a write to a read-only mount fails naming the path, the error code and the remount that fixes it", (t) => {
  const work = tempDir("storage-read-only");
  t.after(() => work.remove());
  const data = path.join(work.dir, "data");
  mkdirSync(data);
  // Root ignores file modes, not a read-only mount: one in a mount namespace of its own.
  const script = `import("${path.join(packageRoot, "dist/src/storage/fs-storage.js")}").then(({ FsStorage }) => FsStorage.existing(process.argv[1]).put("certificates/ca/set/cert.pem", "x")).then(() => console.log("written"), (err) => console.log(err.name + ": " + err.message))`;
  const out = execFileSync("unshare", ["--mount", "--propagation", "private", "sh", "-c", 'mount --bind "$0" "$0" && mount -o remount,bind,ro "$0" && exec "$@"', data, process.execPath, "-e", script, data], { encoding: "utf8" }).trim();
  assert.equal(
    out,
    `StorageWriteError: cannot write ${data}/certificates/ca/set/cert.pem: EROFS (the file system mounted at ${data} is read-only). Fix: remount it read-write (sudo mount -o remount,rw ${data}) or point storage: at a writable folder`,
  );
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
