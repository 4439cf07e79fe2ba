// The Redis storage against a real redis-server: entries, listing and moves as the folder storage
// has them; locks with leases (the holder named, a dead holder taken over, a lease run out taken
// over, a lost lease told); change messages between instances and a reconnection that says
// changes may have been missed; an outage that fails calls at once and is logged once each way;
// password, ACL user and TLS (a certificate from padlock's own internal CA); keys sealed with
// storage_key.
import test from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { hostname } from "node:os";
import path from "node:path";
import { RedisStorage } from "../../src/storage/redis-storage.js";
import { parseRedisUrl } from "../../src/storage/redis-settings.js";
import { EncryptedStorage, StorageKey } from "../../src/storage/encrypted-storage.js";
import { StorageError, StorageUnavailableError, type LockEvent } from "../../src/storage/storage.js";
import { InternalCa } from "../../src/tls/internal-ca.js";
import { FolderKeyFileStore } from "../../src/tls/key-files.js";
import { captureLog, tempDir, waitFor } from "../support/env.js";
import { startRedis, type RedisServer } from "../support/redis.js";

async function open(redis: RedisServer, query = "", options: Parameters<typeof RedisStorage.open>[1] = {}): Promise<RedisStorage> {
  return RedisStorage.open(parseRedisUrl(`${redis.url}${query}`, process.cwd(), {}), options);
}

test("entries: put, get, list, move and delete as the folder storage has them; binary-safe; a prefix keeps clusters apart", async (t) => {
  const redis = await startRedis();
  t.after(() => redis.close());
  const a = await open(redis);
  const other = await open(redis, "?prefix=other:");
  t.after(() => Promise.all([a.close(), other.close()]));

  await a.put("certificates/ca/blog.test/key.pem", "KEY1", { secret: true });
  await a.put("certificates/ca/blog.test/key.pem", "KEY2", { secret: true });
  await a.put("certificates/ca/blog.test/cert.pem", "CERT");
  await a.put("certificates/ca-other/x/cert.pem", Buffer.from([0, 255, 10, 13]));
  await a.put("certificates-old/x", "elsewhere");
  assert.equal((await a.get("certificates/ca/blog.test/key.pem"))?.toString(), "KEY2");
  assert.deepEqual(await a.get("certificates/ca-other/x/cert.pem"), Buffer.from([0, 255, 10, 13]));
  assert.equal(await a.get("certificates/ca/none/key.pem"), undefined);
  assert.equal((await a.stat("certificates/ca/blog.test/key.pem"))?.secret, true);
  assert.equal((await a.stat("certificates/ca/blog.test/cert.pem"))?.secret, false);
  assert.deepEqual(await a.list("certificates/ca"), ["certificates/ca/blog.test/cert.pem", "certificates/ca/blog.test/key.pem"]);
  assert.deepEqual(await a.list("certificates/ca/"), ["certificates/ca/blog.test/cert.pem", "certificates/ca/blog.test/key.pem"]);
  assert.equal((await a.list("")).length, 4);

  await a.move("certificates/ca/blog.test/cert.pem", "certificates/ca/blog.test/cert.pem.damaged-x");
  assert.deepEqual(await a.list("certificates/ca/blog.test"), ["certificates/ca/blog.test/cert.pem.damaged-x", "certificates/ca/blog.test/key.pem"]);
  await assert.rejects(a.move("certificates/ca/blog.test/cert.pem", "x"), /does not exist/);
  await a.delete("certificates/ca/blog.test/key.pem");
  await a.delete("certificates/ca/blog.test/key.pem"); // gone already: no error
  assert.deepEqual(await a.list("certificates/ca"), ["certificates/ca/blog.test/cert.pem.damaged-x"]);
  await assert.rejects(a.get("../escape"), /invalid storage key/);

  assert.deepEqual(await other.list(""), [], "another prefix sees nothing of it");
  assert.match(a.describe("certificates/ca/x/cert.pem"), new RegExp(`^padlock:entry:certificates/ca/x/cert\\.pem in redis://127\\.0\\.0\\.1:${redis.port}/0$`));
  assert.match(await redis.cli("HGET", "padlock:entry:certificates-old/x", "v"), /^elsewhere$/);
});

test("a lock is exclusive until released, names its holder while others wait, and is released only by its holder", async (t) => {
  const redis = await startRedis();
  t.after(() => redis.close());
  const a = await open(redis);
  const b = await open(redis);
  t.after(() => Promise.all([a.close(), b.close()]));

  const first = await a.lock("order-blog", { pollMs: 10 });
  const record = JSON.parse(await redis.cli("GET", "padlock:lock:order-blog")) as Record<string, unknown>;
  assert.equal(record.host, hostname());
  assert.equal(record.pid, process.pid);
  assert.match(String(record.token), /^[0-9a-f]{32}$/);
  assert.ok(Number(await redis.cli("PTTL", "padlock:lock:order-blog")) > 50_000, "SET PX with the default 60 s lease");

  const events: LockEvent[] = [];
  const order: string[] = [];
  const second = b.lock("order-blog", { pollMs: 10, onEvent: (e) => events.push(e) }).then((l) => (order.push("second acquired"), l));
  await waitFor("the waiting event", () => events.length > 0);
  assert.equal(events[0]!.type, "waiting");
  assert.equal((events[0] as Extract<LockEvent, { type: "waiting" }>).holder.pid, process.pid);
  // Someone else's record is never deleted by a release: compare-and-delete.
  assert.equal(await a.releaseRecord("order-blog", '{"not":"the holder"}'), false);
  order.push("first releasing");
  await first.release();
  const lock = await second;
  assert.deepEqual(order, ["first releasing", "second acquired"]);
  assert.deepEqual(events.map((e) => e.type), ["waiting"], "a release is not a takeover");
  await lock.release();
  assert.equal(await redis.cli("EXISTS", "padlock:lock:order-blog"), "0");
});

test("a holder on another host is waited for until its lease runs out, then taken over with its name; a dead holder on this host at once", async (t) => {
  const redis = await startRedis();
  t.after(() => redis.close());
  const storage = await open(redis, "?lock_lease=2");
  t.after(() => storage.close());

  // Another machine's padlock took the lock (through the same script), then stopped renewing it.
  const elsewhere = { host: "other-machine", pid: 4242, started: "2025-01-01T00:00:00.000Z", since: "2025-01-01T00:00:01.000Z", token: "f".repeat(32), leaseMs: 1500 };
  await redis.cli("SET", "padlock:lock:order-blog", JSON.stringify(elsewhere), "PX", "1500");
  await redis.cli("SET", "padlock:lock-last:order-blog", JSON.stringify(elsewhere), "PX", "600000");
  const events: LockEvent[] = [];
  const started = Date.now();
  const lock = await storage.lock("order-blog", { pollMs: 20, onEvent: (e) => events.push(e) });
  assert.ok(Date.now() - started >= 1000, "waited for the lease");
  assert.deepEqual(events.map((e) => [e.type, "holder" in e ? e.holder?.host : undefined]), [["waiting", "other-machine"], ["taken-over", "other-machine"]]);
  assert.match((events[1] as Extract<LockEvent, { type: "taken-over" }>).why, /lease \(1\.5 s\) ended without being renewed/);
  assert.ok(Number(await redis.cli("PTTL", "padlock:lock:order-blog")) <= 2000, "lock_lease=2 is the lease");
  await lock.release();

  // A padlock on this host whose process is gone: no need to wait for its lease.
  const dead = { host: hostname(), pid: 2 ** 22 + 1, started: "2025-01-01T00:00:00.000Z", since: "2025-01-01T00:00:01.000Z", token: "e".repeat(32), leaseMs: 600_000 };
  await redis.cli("SET", "padlock:lock:order-blog", JSON.stringify(dead), "PX", "600000");
  const taken: LockEvent[] = [];
  const again = await storage.lock("order-blog", { pollMs: 20, timeoutMs: 2_000, onEvent: (e) => taken.push(e) });
  assert.deepEqual(taken.map((e) => e.type), ["taken-over"]);
  assert.match((taken[0] as Extract<LockEvent, { type: "taken-over" }>).why, /is no longer running/);
  await again.release();

  // A record that does not parse is kept aside and the lock taken.
  await redis.cli("SET", "padlock:lock:order-blog", "garbage", "PX", "600000");
  const damaged: LockEvent[] = [];
  await (await storage.lock("order-blog", { timeoutMs: 2_000, onEvent: (e) => damaged.push(e) })).release();
  assert.deepEqual(damaged.map((e) => e.type), ["damaged"]);
  assert.equal((await storage.list("locks")).length, 1, "the damaged record is kept");
  await assert.rejects(
    (async () => {
      await redis.cli("SET", "padlock:lock:order-blog", JSON.stringify({ ...elsewhere, since: "now" }), "PX", "600000");
      await storage.lock("order-blog", { pollMs: 20, timeoutMs: 200 });
    })(),
    /timed out waiting for the lock padlock:lock:order-blog .* held by pid 4242 on other-machine/,
  );
});

test("a holder renews its lease; one that lost it (unreachable past its lease, taken by another) is told who has it", async (t) => {
  const redis = await startRedis();
  t.after(() => redis.close());
  const storage = await open(redis);
  t.after(() => storage.close());
  const events: LockEvent[] = [];
  const lock = await storage.lock("order-blog", { ttlMs: 600, onEvent: (e) => events.push(e) });
  // Three leases long: renewed all along.
  const until = Date.now() + 1800;
  await waitFor("three leases to pass", () => Date.now() > until, 5_000, 100);
  assert.ok(Number(await redis.cli("PTTL", "padlock:lock:order-blog")) > 0, "still held");
  const other = { host: "other-machine", pid: 7, started: "2025-01-01T00:00:00.000Z", since: "2025-01-01T00:00:01.000Z", token: "a".repeat(32), leaseMs: 60_000 };
  await redis.cli("SET", "padlock:lock:order-blog", JSON.stringify(other), "PX", "60000");
  await waitFor("the lost event", () => events.some((e) => e.type === "lost"), 5_000);
  assert.equal((events.find((e) => e.type === "lost") as Extract<LockEvent, { type: "lost" }>).holder?.host, "other-machine");
  await lock.release();
  assert.equal(JSON.parse(await redis.cli("GET", "padlock:lock:order-blog")).host, "other-machine", "the new holder's lock stays");
});

test("instances hear of each other's changes; after an outage, that changes may have been missed; calls fail at once meanwhile, logged once each way", async (t) => {
  const redis = await startRedis();
  t.after(() => redis.close());
  const { log, messages } = captureLog();
  const a = await open(redis, "", { log, changeCheckMs: 200 });
  const b = await open(redis);
  t.after(() => Promise.all([a.close(), b.close()]));
  const heard: (string | undefined)[] = [];
  const stop = await a.watch("certificates/", (key) => heard.push(key));
  await b.put("certificates/ca/blog.test/cert.pem", "CERT");
  await b.put("challenges/http-01/token", "elsewhere");
  await b.move("certificates/ca/blog.test/cert.pem", "certificates/ca/blog.test/cert.pem.damaged-x");
  await b.delete("certificates/ca/blog.test/cert.pem.damaged-x");
  await waitFor("four changes", () => heard.length >= 4);
  assert.deepEqual(heard, ["certificates/ca/blog.test/cert.pem", "certificates/ca/blog.test/cert.pem", "certificates/ca/blog.test/cert.pem.damaged-x", "certificates/ca/blog.test/cert.pem.damaged-x"]);

  // A message that never arrives (published around the subscription): the counter check catches it.
  await redis.cli("INCR", "padlock:changes");
  await waitFor("the periodic check to notice", () => heard.at(-1) === undefined && heard.length === 5, 5_000);

  await redis.stop();
  const started = Date.now();
  await assert.rejects(a.get("certificates/ca/blog.test/cert.pem"), (err: unknown) => err instanceof StorageUnavailableError && /Redis is unreachable/.test((err as Error).message));
  await assert.rejects(a.lock("order-blog"), StorageUnavailableError);
  assert.ok(Date.now() - started < 2_000, "nothing waits for Redis to come back");
  await redis.start();
  await waitFor("the connection back", () => messages().some((l) => /connection to Redis at .* is back after/.test(l)), 10_000);
  await waitFor("changes may have been missed", () => heard.length > 5 && heard.at(-1) === undefined, 10_000);
  assert.equal((await a.get("challenges/http-01/token"))?.toString(), "elsewhere", "works again, and the data survived");
  assert.equal(messages().filter((l) => /^lost the connection to Redis/.test(l)).length, 1, messages().join("\n"));
  assert.equal(messages().filter((l) => /is back after/.test(l)).length, 1);
  heard.length = 0;
  stop();
  // b reconnects on its own schedule, and fails calls at once until then (as a does above).
  await waitFor("b's connection back", () => b.ping().then(() => true), 10_000);
  await b.put("certificates/x", "y");
  await b.ping();
  assert.deepEqual(heard, [], "no longer told once stopped");
});

test("password, an ACL user limited to its prefix, and the errors for a wrong password or a missing permission", async (t) => {
  const redis = await startRedis({
    password: "admin-secret",
    aclUsers: [
      "user padlock on >padlock-secret ~padlock:* &padlock:* +@read +@write +@scripting +@pubsub +ping +select +client|setname +info",
      "user readonly on >ro-secret ~padlock:* &padlock:* +@read +ping +select +client|setname",
    ],
  });
  t.after(() => redis.close());
  const withDefault = await RedisStorage.open(parseRedisUrl(redis.url, process.cwd(), { PADLOCK_REDIS_PASSWORD: "admin-secret" }));
  await withDefault.put("certificates/a", "A");
  await withDefault.close();
  const user = await RedisStorage.open(parseRedisUrl(redis.url.replace("redis://", "redis://padlock@"), process.cwd(), { PADLOCK_REDIS_PASSWORD: "padlock-secret" }));
  t.after(() => user.close());
  assert.equal((await user.get("certificates/a"))?.toString(), "A");
  await (await user.lock("x")).release();
  const heard: (string | undefined)[] = [];
  await user.watch("", (k) => heard.push(k));
  await user.put("certificates/b", "B");
  await waitFor("its own change", () => heard.includes("certificates/b"));

  await assert.rejects(
    RedisStorage.open(parseRedisUrl(redis.url.replace("redis://", "redis://padlock:wrong@"), process.cwd(), {})),
    (err: unknown) => err instanceof StorageError && /refused the credentials .*WRONGPASS.*Fix: check the user padlock and its password \(the password in storage:/.test((err as Error).message),
  );
  const readonly = await RedisStorage.open(parseRedisUrl(redis.url.replace("redis://", "redis://readonly:ro-secret@"), process.cwd(), {}));
  t.after(() => readonly.close());
  assert.equal((await readonly.get("certificates/a"))?.toString(), "A");
  await assert.rejects(readonly.put("certificates/c", "C"), /cannot write padlock:entry:certificates\/c in redis:\/\/readonly@127\.0\.0\.1:\d+\/0: the Redis user readonly is not allowed to \(NOPERM.*\)\. Fix: ACL SETUSER readonly ~padlock:\* &padlock:\*/);
});

test("rediss:// with a certificate from padlock's internal CA: trusted through ca_file, refused with the fix without it", async (t) => {
  const work = tempDir("redis-tls");
  t.after(() => work.remove());
  const ca = await InternalCa.open(new FolderKeyFileStore(path.join(work.dir, "ca")));
  const issued = await ca.issue(["localhost", "127.0.0.1"]);
  const files = { certFile: path.join(work.dir, "redis.pem"), keyFile: path.join(work.dir, "redis.key"), caFile: path.join(work.dir, "root.pem") };
  writeFileSync(files.certFile, issued.chainPem);
  writeFileSync(files.keyFile, issued.keyPem);
  writeFileSync(files.caFile, ca.rootCertificatePem);
  const redis = await startRedis({ tls: files });
  t.after(() => redis.close());
  assert.match(redis.url, /^rediss:/);
  const storage = await RedisStorage.open(parseRedisUrl(`${redis.url}?ca_file=root.pem`, work.dir, {}));
  t.after(() => storage.close());
  await storage.put("certificates/a", "over TLS");
  assert.equal((await storage.get("certificates/a"))?.toString(), "over TLS");
  await assert.rejects(RedisStorage.open(parseRedisUrl(redis.url, work.dir, {})), /the TLS connection failed .*Fix: add \?ca_file=/);
  await assert.rejects(RedisStorage.open(parseRedisUrl(redis.url.replace("rediss:", "redis:"), work.dir, {})), StorageError);
});

test("storage_key: secrets sealed in Redis, read back plain; another key is an error that names the entry", async (t) => {
  const redis = await startRedis();
  t.after(() => redis.close());
  const inner = await open(redis);
  t.after(() => inner.close());
  const key = StorageKey.fromConfig("a".repeat(64))!;
  const sealed = new EncryptedStorage(inner, key);
  await sealed.put("certificates/ca/blog.test/key.pem", "-----BEGIN PRIVATE KEY-----\nsecret\n", { secret: true });
  await sealed.put("certificates/ca/blog.test/cert.pem", "-----BEGIN CERTIFICATE-----\n");
  const raw = await redis.cli("HGET", "padlock:entry:certificates/ca/blog.test/key.pem", "v");
  assert.match(raw, /^padlock-sealed:v1:[0-9a-f]{16}:/);
  assert.doesNotMatch(raw, /secret|PRIVATE/);
  assert.equal((await sealed.get("certificates/ca/blog.test/key.pem"))?.toString(), "-----BEGIN PRIVATE KEY-----\nsecret\n");
  assert.equal((await inner.get("certificates/ca/blog.test/cert.pem"))?.toString(), "-----BEGIN CERTIFICATE-----\n", "certificates are not secret");
  const wrong = new EncryptedStorage(inner, StorageKey.fromConfig("b".repeat(64))!);
  await assert.rejects(wrong.get("certificates/ca/blog.test/key.pem"), /cannot decrypt padlock:entry:certificates\/ca\/blog\.test\/key\.pem in redis:\/\/.*: it was encrypted with another storage key \(key id [0-9a-f]{16}; storage_key's is [0-9a-f]{16}\)\. Fix: set storage_key/);
  assert.throws(() => StorageKey.fromConfig("short"), /storage_key: must be 32 random bytes.*openssl rand -base64 32/);
  assert.throws(() => StorageKey.fromConfig(undefined, { PADLOCK_STORAGE_KEY: "x" }), /\$PADLOCK_STORAGE_KEY: must be 32 random bytes/);
});

test("storage URLs: what each part means, and every mistake named", () => {
  const s = parseRedisUrl("rediss://padlock:p%40ss@redis.internal:6380/2?prefix=blog:&ca_file=ca.pem&lock_lease=15", "/etc/padlock", {});
  assert.deepEqual(
    { ...s },
    { location: "rediss://padlock@redis.internal:6380/2 (prefix blog:)", tls: true, host: "redis.internal", port: 6380, database: 2, username: "padlock", password: "p@ss", passwordFrom: "url", caFile: "/etc/padlock/ca.pem", prefix: "blog:", lockLeaseMs: 15_000 },
  );
  assert.equal(parseRedisUrl("redis://r", "/", { PADLOCK_REDIS_PASSWORD: "env" }).password, "env");
  assert.equal(parseRedisUrl("redis://r", "/", {}).location, "redis://r:6379/0");
  assert.throws(() => parseRedisUrl("redis://r/x", "/", {}), /storage: redis:\/\/r\/x: "\/x" is not a database number; expected redis:\/\//);
  assert.throws(() => parseRedisUrl("redis://r/0?tls=1", "/", {}), /unknown option "tls" \(known: prefix, ca_file, lock_lease\)/);
  assert.throws(() => parseRedisUrl("redis://r/0?ca_file=x", "/", {}), /ca_file is only for TLS: use rediss:\/\//);
  assert.throws(() => parseRedisUrl("redis://u:secret@r/0?lock_lease=0", "/", {}), (err: unknown) => /lock_lease "0"/.test((err as Error).message) && !/secret/.test((err as Error).message));
  assert.throws(() => parseRedisUrl("redis://r/0?prefix=a b", "/", {}), /prefix "a b" may only hold/);
});
