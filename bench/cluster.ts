// bench/cluster: a padlock joining a cluster whose Redis holds 1,000 name sets (a certificate
// each, from padlock's internal CA, stored as padlock stores an ACME certificate), beside a
// padlock whose Redis holds one, in the same run. Prints, for each: the time from the process's
// start to its first verified HTTPS response (for the last of the names), its resident memory
// once ready and once every name got a handshake, and its full-handshake rate (every request on
// a new TLS connection, bench/handshake-load.c; both servers on CPU 0, the load on CPU 1); then
// 1,000 against 1 as ratios. Targets (issue 16): ready in ≤ 2 s, ≤ 20 KB per certificate,
// handshake rate ≥ 0.95× the one-certificate figure.
//
//   node dist/bench/cluster.js [sets=1000] [rounds=3] [seconds=2] [connections=32]
// Needs redis-server, gcc and libssl-dev.
import os from "node:os";
import path from "node:path";
import { caId, setFolder } from "../src/certificates/store-layout.js";
import { switchIn, type StoredCertificate } from "../src/certificates/stored-set.js";
import { RedisStorage } from "../src/storage/redis-storage.js";
import { parseRedisUrl } from "../src/storage/redis-settings.js";
import { readCertificate } from "../src/tls/certificate-info.js";
import { InternalCa } from "../src/tls/internal-ca.js";
import { FolderKeyFileStore } from "../src/tls/key-files.js";
import { httpsGet } from "../test/support/clients.js";
import { tempDir } from "../test/support/env.js";
import { spawnPadlock, writeConfig, type PadlockProcess } from "../test/support/padlock-process.js";
import { startRedis } from "../test/support/redis.js";
import { buildHandshakeLoad, loadAverage, runLoad, SERVER_CPU } from "./peers.js";
import { median } from "./stats.js";

const [sets = 1000, rounds = 3, seconds = 2, connections = 32] = process.argv.slice(2).map(Number);
// No CA answers here: every stored certificate is fresh, so none is ordered.
const DIRECTORY = "https://127.0.0.1:9/directory";

const work = tempDir("bench-cluster");
const redis = await startRedis();
const running: PadlockProcess[] = [];
try {
  const load = buildHandshakeLoad(work.dir);
  const ca = await InternalCa.open(new FolderKeyFileStore(path.join(work.dir, "ca")));
  const root = ca.rootCertificatePem;
  const names = (count: number) => Array.from({ length: count }, (_, i) => `s${i}.test`);

  /** A Redis database holding `count` stored name sets, ready for an instance to join. */
  const fill = async (database: number, count: number): Promise<string> => {
    const url = `redis://127.0.0.1:${redis.port}/${database}`;
    const storage = await RedisStorage.open(parseRedisUrl(url, work.dir, {}));
    try {
      for (const name of names(count)) {
        const issued = await ca.issue([name]);
        const info = readCertificate(issued.chainPem);
        const meta = { names: [name], ca: DIRECTORY, keyType: "ecdsa-p256" as const, serial: info.serial, notBefore: info.notBefore.toISOString(), notAfter: info.notAfter.toISOString(), issuedAt: info.notBefore.toISOString(), ariId: info.ariId };
        const cert: StoredCertificate = { chainPem: issued.chainPem, keyPem: issued.keyPem, info, meta };
        await switchIn(storage, setFolder(caId(DIRECTORY), [name]), cert);
      }
    } finally {
      await storage.close();
    }
    return url;
  };

  /** Starts an instance on `url` (pinned to the server CPU); resolves once `last` is served over verified HTTPS. */
  const join = async (url: string, count: number): Promise<{ p: PadlockProcess; readyMs: number; port: number }> => {
    const config = writeConfig(path.join(work.dir, `padlock-${count}.yaml`), {
      ca: DIRECTORY,
      storage: url,
      listen: "127.0.0.1",
      log: { access: "off" },
      sites: names(count).map((n) => ({ hosts: [n], redirect: "https://elsewhere.test" })),
    });
    const started = performance.now();
    const p = spawnPadlock(["serve", "--config", config, "--log-format", "json", "--http-port", "0", "--https-port", "0"], { prefix: ["taskset", "-c", SERVER_CPU] });
    running.push(p);
    const { httpsPort } = await p.serving();
    const last = `s${count - 1}.test`;
    for (;;) {
      const answer = await httpsGet(last, httpsPort, root).catch(() => undefined);
      if (answer) break;
      if (performance.now() - started > 60_000) throw new Error(`${last} not served within 60 s:\n${p.output()}`);
      await new Promise((r) => setTimeout(r, 5));
    }
    return { p, readyMs: performance.now() - started, port: httpsPort };
  };

  const fullRate = async (port: number, name: string, time = seconds): Promise<number> => {
    const out = await runLoad(load, ["127.0.0.1", String(port), name, "/", "full", String(connections), String(time)]);
    const r = JSON.parse(out) as { rate: number; errors: number };
    if (r.errors > 0) throw new Error(`${r.errors} failed connections to ${name}`);
    return r.rate;
  };

  const filling = performance.now();
  const [oneUrl, manyUrl] = [await fill(1, 1), await fill(2, sets)];
  console.log(
    `bench/cluster: a padlock joining a Redis with ${sets} stored name sets, beside one with 1 set; ${rounds} rounds; ` +
      `(${sets} certificates issued and stored in ${((performance.now() - filling) / 1000).toFixed(1)} s); ${os.cpus().length} CPUs, load average ${loadAverage()}`,
  );
  const figures = { ready: [[], []] as number[][], rss: [[], []] as number[][], rssVisited: [] as number[], rate: [[], []] as number[][] };
  for (let round = 1; round <= rounds; round++) {
    const one = await join(oneUrl, 1);
    const many = await join(manyUrl, sets);
    await new Promise((r) => setTimeout(r, 500));
    figures.ready[0]!.push(one.readyMs);
    figures.ready[1]!.push(many.readyMs);
    figures.rss[0]!.push(one.p.rss() / 1024);
    figures.rss[1]!.push(many.p.rss() / 1024);
    await fullRate(one.port, "s0.test", 1); // warm-up
    await fullRate(many.port, "s0.test", 1);
    const rates = round % 2 ? [await fullRate(one.port, "s0.test"), await fullRate(many.port, "s0.test")] : [await fullRate(many.port, "s0.test"), await fullRate(one.port, "s0.test")].reverse();
    figures.rate[0]!.push(rates[0]!);
    figures.rate[1]!.push(rates[1]!);
    for (const name of names(sets)) await httpsGet(name, many.port, root);
    figures.rssVisited.push(many.p.rss() / 1024);
    console.log(
      `  round ${round}: ready ${one.readyMs.toFixed(0)} ms (1) / ${many.readyMs.toFixed(0)} ms (${sets}); ` +
        `${figures.rss[0]!.at(-1)!.toFixed(0)} / ${figures.rss[1]!.at(-1)!.toFixed(0)} KiB (${figures.rssVisited.at(-1)!.toFixed(0)} KiB after a handshake for every name); ` +
        `${rates[0]!.toFixed(0)} / ${rates[1]!.toFixed(0)} handshakes/s`,
    );
    await Promise.all([one.p.stop(), many.p.stop()]);
  }
  const m = (xs: number[]) => median(xs);
  const perCert = (m(figures.rss[1]!) - m(figures.rss[0]!)) / (sets - 1);
  const perCertVisited = (m(figures.rssVisited) - m(figures.rss[0]!)) / (sets - 1);
  console.log(`
| padlock joining a cluster (medians) | 1 name set | ${sets} name sets | ${sets} against 1 |
|---|---:|---:|---:|
| process start → first verified HTTPS response | ${m(figures.ready[0]!).toFixed(0)} ms | ${m(figures.ready[1]!).toFixed(0)} ms | ${(m(figures.ready[1]!) / m(figures.ready[0]!)).toFixed(2)}× (target: ≤ 2 s) |
| resident memory once ready | ${(m(figures.rss[0]!) / 1024).toFixed(1)} MiB | ${(m(figures.rss[1]!) / 1024).toFixed(1)} MiB | ${perCert.toFixed(1)} KiB per certificate (target ≤ 20 KB) |
| … after a handshake for every name | | ${(m(figures.rssVisited) / 1024).toFixed(1)} MiB | ${perCertVisited.toFixed(1)} KiB per certificate |
| full TLS handshakes per second (one name) | ${m(figures.rate[0]!).toFixed(0)} | ${m(figures.rate[1]!).toFixed(0)} | ${(m(figures.rate[1]!) / m(figures.rate[0]!)).toFixed(3)}× (target ≥ 0.95×) |`);
} finally {
  await Promise.all(running.map((p) => p.stop()));
  await redis.close();
  work.remove();
}
