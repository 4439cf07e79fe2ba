// The commands against Redis storage, with a real redis-server (an ACL user limited to padlock's
// prefix, its password from the environment) and a certificate Pebble issued: `padlock storage
// copy` from a folder to Redis and back (unchanged entries skipped, newer ones refused without
// --force), `padlock certs list` reading Redis, `padlock doctor` checking the connection, the
// ACL's permissions, change messages and latency.
import test from "node:test";
import assert from "node:assert/strict";
import { readFileSync, statSync } from "node:fs";
import path from "node:path";
import type { CheckResult } from "../../src/doctor/check-result.js";
import { RedisStorage } from "../../src/storage/redis-storage.js";
import { parseRedisUrl } from "../../src/storage/redis-settings.js";
import { httpsGet } from "../support/clients.js";
import { freePort, tempDir, waitFor } from "../support/env.js";
import { startPebble } from "../support/pebble.js";
import { runPadlock, spawnPadlock, writeConfig } from "../support/padlock-process.js";
import { startRedis } from "../support/redis.js";

const ACL = "~padlock:* &padlock:* +@read +@write +@scripting +@pubsub +ping +select +client|setname +info";

test("storage copy folder → Redis → folder, certs list and doctor against Redis with an ACL user", async (t) => {
  const work = tempDir("redis-commands");
  t.after(() => work.remove());
  const redis = await startRedis({ password: "admin", aclUsers: [`user padlock on >s3cret ${ACL}`, "user reader on >r3ad ~padlock:* &padlock:* +@read +ping +select +client|setname"] });
  t.after(() => redis.close());
  const [httpPort, httpsPort] = await Promise.all([freePort(), freePort()]);
  const pebble = await startPebble({ httpPort });
  t.after(() => pebble.stop());

  // A single instance on a folder gets its certificate, then stops.
  const base = { ca: pebble.directoryUrl, ca_root: pebble.apiRootFile, accept_terms: true, listen: "127.0.0.1", sites: [{ hosts: ["blog.test"], redirect: "https://elsewhere.test" }] };
  const folderConfig = writeConfig(path.join(work.dir, "single.yaml"), { ...base, storage: "data" });
  const single = spawnPadlock(["serve", "--config", folderConfig, "--log-format", "json", "--http-port", String(httpPort), "--https-port", String(httpsPort)]);
  t.after(() => single.stop());
  const root = await pebble.issuingRoot();
  const { serial } = await waitFor("the certificate", () => httpsGet("blog.test", httpsPort, root).catch(() => undefined), 30_000, 50);
  await single.stop();

  const url = `redis://padlock@127.0.0.1:${redis.port}/0`;
  const env = { PADLOCK_REDIS_PASSWORD: "s3cret" };
  const copy = (...args: string[]) => runPadlock(["storage", "copy", ...args], { env, cwd: work.dir });
  const first = await copy("data", url);
  assert.equal(first.code, 0, first.stderr);
  const copied = Number(/^copied (\d+) entries from data to redis:\/\/padlock@/.exec(first.stdout)?.[1]);
  assert.ok(copied >= 4, first.stdout); // account, key, certificate, meta.json at least
  const again = await copy("data", url);
  assert.match(again.stdout, new RegExp(`^copied 0 entries .*; ${copied} already there unchanged`));

  // A cluster's config: `padlock certs` reads the certificate from Redis (no padlock runs).
  const clusterConfig = writeConfig(path.join(work.dir, "cluster.yaml"), { ...base, storage: url });
  const list = await runPadlock(["certs", "list", "--json", "--config", clusterConfig], { env });
  assert.equal(list.code, 0, list.stderr);
  const listing = JSON.parse(list.stdout) as { running: boolean; certificates: { names: string[]; serial: string }[] };
  assert.equal(listing.running, false);
  assert.deepEqual(listing.certificates.map((c) => [c.names, c.serial]), [[["blog.test"], serial]]);

  // The doctor: connection, permissions, change messages, latency, and the certificate found there.
  const doctor = async (config: string, password: string) => {
    const run = await runPadlock(["doctor", "--json", "--timeout", "2", "--config", config], { env: { PADLOCK_REDIS_PASSWORD: password } });
    return (JSON.parse(run.stdout) as { results: CheckResult[] }).results;
  };
  const rows = await doctor(clusterConfig, "s3cret");
  const row = (rs: CheckResult[], check: string) => rs.find((r) => r.check === check) ?? assert.fail(`no ${check} row in ${JSON.stringify(rs)}`);
  assert.equal(row(rows, "storage").status, "ok");
  assert.match(row(rows, "storage").found, /connected to Redis at redis:\/\/padlock@127\.0\.0\.1:\d+\/0 as padlock/);
  assert.equal(row(rows, "Redis permissions").status, "ok");
  assert.equal(row(rows, "Redis change messages").status, "ok");
  assert.equal(row(rows, "Redis latency").status, "ok");
  assert.equal(row(rows, "certificate blog.test").status, "ok");
  const readerConfig = writeConfig(path.join(work.dir, "reader.yaml"), { ...base, storage: url.replace("padlock@", "reader@") });
  const refused = row(await doctor(readerConfig, "r3ad"), "Redis permissions");
  assert.equal(refused.status, "fail");
  assert.match(refused.found, /the Redis user reader is not allowed to \(NOPERM/);
  assert.match(refused.fix, /^ACL SETUSER reader ~padlock:\* &padlock:\* \+@read \+@write \+@scripting/);
  assert.equal(await redis.cli("--scan", "--pattern", "padlock:entry:doctor/*"), "", "the probe entries are gone");

  // An entry newer in Redis is not overwritten by an older copy, unless forced.
  const redisStorage = await RedisStorage.open(parseRedisUrl(url, work.dir, env));
  t.after(() => redisStorage.close());
  const meta = (await redisStorage.list("certificates/")).find((k) => k.endsWith("/meta.json"))!;
  await redisStorage.put(meta, "{\"written\":\"by the cluster, later\"}\n");
  const stale = await copy("data", url);
  assert.equal(stale.code, 1);
  assert.match(stale.stderr, new RegExp(`nothing copied: 1 entry is newer in redis://padlock@127\\.0\\.0\\.1:\\d+/0 than in data:\\n  ${meta.replace(/[.]/g, "\\.")}: .*\\n.*--force`));
  assert.match((await redisStorage.get(meta))!.toString(), /by the cluster/);

  // Back to a folder: the same files, keys private, the newer entry from Redis.
  const back = await copy(url, "back");
  assert.equal(back.code, 0, back.stderr);
  for (const key of (await redisStorage.list("")).filter((k) => !k.startsWith("challenges/"))) {
    const file = path.join(work.dir, "back", key);
    assert.deepEqual(readFileSync(file), await redisStorage.get(key), key);
    if (/key/.test(path.basename(key))) assert.equal(statSync(file).mode & 0o777, 0o600, `${key} is private`);
  }
  assert.match(readFileSync(path.join(work.dir, "back", meta), "utf8"), /by the cluster/);
  const forced = await copy("data", url, "--force");
  assert.match(forced.stdout, /^copied 1 entry .*; 1 newer one\(s\) overwritten \(--force\)/);
  assert.deepEqual(await redisStorage.get(meta), readFileSync(path.join(work.dir, "data", meta)));
});
