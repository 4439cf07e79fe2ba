// A cluster of three padlock instances on one redis-server behind haproxy, when things go wrong:
// Redis stops for 30 s while clients keep coming through the balancer, and the instance that
// holds a name set's lock is killed in the middle of its order.
import test from "node:test";
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { httpsGet } from "../support/clients.js";
import { sameCertificateEverywhere, startCluster, type Cluster, type Instance } from "../support/cluster.js";
import { waitFor } from "../support/env.js";
import { runPadlock } from "../support/padlock-process.js";

const OUTAGE_MS = 30_000;

const messages = (i: Instance) => i.logLines().map((l) => String(l.msg));

test("Redis down for 30 s under a client loop through the balancer: no failed request, one log line each way, recovery without a restart", async (t) => {
  const cluster = await startCluster(t, { sites: [{ hosts: ["blog.test"], redirect: "https://elsewhere.test" }] });
  const first = await sameCertificateEverywhere(cluster, "blog.test");
  const root = await cluster.root();

  // One client after another through the balancer, each a new TLS handshake and an HTTP request.
  let running = true;
  const outcomes = { ok: 0, failed: [] as string[] };
  const loop = (async () => {
    while (running) {
      try {
        const answer = await httpsGet("blog.test", cluster.httpsPort, root);
        if (answer.status === 308 || answer.status === 301 || answer.status === 302) outcomes.ok++;
        else outcomes.failed.push(`status ${answer.status}`);
      } catch (err) {
        outcomes.failed.push((err as Error).message);
      }
    }
  })();

  await cluster.redis.stop();
  const stoppedAt = Date.now();
  await waitFor("every instance to notice", () => cluster.instances.every((i) => messages(i).some((m) => m.startsWith("lost the connection to Redis"))), 15_000);
  // A renewal asked for meanwhile is refused with the reason, and nothing is ordered.
  const refused = await runPadlock(["certs", "renew", "blog.test", "--force", "--config", cluster.instances[1]!.configFile]);
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr, /Redis is unreachable/);
  await sleep(OUTAGE_MS - (Date.now() - stoppedAt));
  await cluster.redis.start();
  await waitFor("every instance to reconnect", () => cluster.instances.every((i) => messages(i).some((m) => /^the connection to Redis at .* is back after/.test(m))), 15_000);
  running = false;
  await loop;

  t.diagnostic(`${outcomes.ok} requests answered through the balancer during the ${OUTAGE_MS / 1000} s outage and reconnection, ${outcomes.failed.length} failed`);
  assert.deepEqual(outcomes.failed, [], "no request failed");
  assert.ok(outcomes.ok > 30, `clients were served all along (${outcomes.ok} requests)`);
  for (const i of cluster.instances) {
    assert.equal(messages(i).filter((m) => m.startsWith("lost the connection to Redis")).length, 1, `one line when lost (${i.name})`);
    assert.equal(messages(i).filter((m) => /^the connection to Redis at .* is back/.test(m)).length, 1, `one line when back (${i.name})`);
  }
  assert.equal(cluster.pebble.ordersPlaced(), 1, "nothing ordered during the outage");

  // Recovered without a restart: a renewal on one instance is stored and reaches the others.
  const renew = await runPadlock(["certs", "renew", "blog.test", "--force", "--config", cluster.instances[1]!.configFile]);
  assert.equal(renew.code, 0, renew.stderr);
  await sameCertificateEverywhere(cluster, "blog.test", first);
  assert.equal(cluster.pebble.ordersPlaced(), 2);
});

test("the instance holding the lock is killed during its order: another finishes it once the lease ends, with at most one more order", async (t) => {
  let killed: Instance | undefined;
  let killing: Promise<unknown> | undefined;
  let started!: (c: Cluster) => void;
  const whenStarted = new Promise<Cluster>((resolve) => (started = resolve));
  const cluster = await startCluster(t, {
    storageQuery: "?lock_lease=3",
    sites: [{ hosts: ["blog.test", "www.blog.test"], redirect: "https://elsewhere.test" }],
    front: {
      ari: false,
      intercept: {
        // The first challenge response: the holder is killed before the CA hears it.
        before: async (r) => {
          if (killing || r.method !== "POST" || !r.path.startsWith("/chalZ/")) return;
          killing = (async () => {
            const cluster = await whenStarted;
            const holders = await lockHolders(cluster.redis.cli);
            killed = cluster.instances.find((i) => holders.includes(`padlock-${i.name}`) || holders.includes(String(i.child.pid)));
            assert.ok(killed, `a lock holder among the instances: ${holders.join(", ")}`);
            await killed.stop("SIGKILL");
          })();
          await killing;
          return "drop";
        },
      },
    },
  });
  started(cluster);
  await waitFor("the holder to be killed", () => killing !== undefined, 30_000);
  await killing;
  const killedAt = Date.now();
  const survivors = cluster.instances.filter((i) => i !== killed);
  const root = await cluster.root();
  const serial = await waitFor("both survivors serving one certificate", async () => {
    const serials = await Promise.all(survivors.map((i) => httpsGet("blog.test", i.httpsPort, root).then((a) => a.serial, () => undefined)));
    return serials[0] !== undefined && serials.every((s) => s === serials[0]) && serials[0];
  }, 30_000, 25);
  const output = survivors.map((i) => `--- ${i.name}\n${i.output()}`).join("\n");
  const tookOver = survivors.flatMap((i) => messages(i).filter((m) => m.includes("took over the lock") && m.includes(`padlock-${killed!.name}`)));
  if (process.getuid?.() === 0) {
    assert.equal(tookOver.length, 1, `one survivor took the lock over, naming the killed holder\n${output}`);
    assert.match(tookOver[0]!, /lease \(3 s\) ended without being renewed/);
  }
  t.diagnostic(`killed instance ${killed!.name} during its order; the survivors served ${serial} ${Date.now() - killedAt} ms later (lease 3 s); orders at Pebble: ${cluster.pebble.ordersPlaced()}`);
  assert.ok(cluster.pebble.ordersPlaced() <= 2, `at most one more order (${cluster.pebble.ordersPlaced()})\n${output}`);
  assert.equal(cluster.pebble.certificatesIssued(), 1, "one certificate");
});

/** Host names and pids of the processes holding a lock in the cluster's Redis now. */
async function lockHolders(cli: (...args: string[]) => Promise<string>): Promise<string[]> {
  const keys = (await cli("--scan", "--pattern", "padlock:lock:*")).split("\n").filter(Boolean);
  const records = await Promise.all(keys.map((k) => cli("GET", k)));
  return records.flatMap((r) => {
    try {
      const holder = JSON.parse(r) as { host: string; pid: number };
      return [holder.host, String(holder.pid)];
    } catch {
      return [];
    }
  });
}
