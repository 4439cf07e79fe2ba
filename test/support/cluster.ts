// Several padlock processes sharing one real redis-server, behind haproxy (round robin on the
// HTTP and HTTPS ports), with Pebble validating through the balancer: a challenge lands on
// whichever instance haproxy picks. Run as root, each instance has a host name of its own
// (padlock-a, padlock-b… in a UTS namespace), as on separate machines: the others cannot tell
// that a killed one is gone, and take its lock over only when its lease ends.
import path from "node:path";
import type { TestContext } from "node:test";
import { freePort, tempDir, waitFor } from "./env.js";
import { startHaproxy, type Balancer } from "./haproxy.js";
import { spawnPadlock, writeConfig, type PadlockProcess } from "./padlock-process.js";
import { startPebble, type Pebble } from "./pebble.js";
import { startAcmeFront, type FrontOptions } from "./ari-front.js";
import { startRedis, type RedisServer } from "./redis.js";
import { httpsGet } from "./clients.js";

export interface Instance extends PadlockProcess {
  name: string;
  configFile: string;
  httpPort: number;
  httpsPort: number;
}

export interface Cluster {
  redis: RedisServer;
  pebble: Pebble;
  balancer: Balancer;
  /** The balancer's HTTP and HTTPS ports. */
  httpPort: number;
  httpsPort: number;
  instances: Instance[];
  /** Starts the instance again (same ports and config) after it stopped. */
  restart(instance: Instance): Promise<Instance>;
  /** The serial each instance serves for `name` now (undefined where the handshake fails). */
  serials(name: string): Promise<(string | undefined)[]>;
  root(): Promise<string>;
  dir: string;
}

export interface ClusterOptions {
  instances?: number;
  sites: Record<string, unknown>[];
  /** Added to the storage URL (?lock_lease=…). */
  storageQuery?: string;
  /** Options of the front (test/support/ari-front.ts) between the instances and Pebble. */
  front?: FrontOptions;
}

export async function startCluster(t: TestContext, options: ClusterOptions): Promise<Cluster> {
  const work = tempDir("cluster");
  const stops: (() => Promise<unknown>)[] = [];
  // Stopped in the reverse order of their start, then the folder removed.
  t.after(async () => {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    work.remove();
  });
  const redis = await startRedis();
  stops.push(() => redis.close());
  const count = options.instances ?? 3;
  const ports = await Promise.all(Array.from({ length: count }, async () => ({ http: await freePort(), https: await freePort() })));
  const balancer = await startHaproxy([ports.map((p) => p.http), ports.map((p) => p.https)]);
  stops.push(() => balancer.stop());
  const [httpPort, httpsPort] = balancer.ports as [number, number];
  const pebble = await startPebble({ httpPort, tlsPort: httpsPort });
  stops.push(() => pebble.stop());
  // New orders wait here until the balancer has every instance in its rotation: it marks each
  // down at its first health check, made before any listens, and an order placed in that moment
  // fails its validation (haproxy closes the CA's connection) and is placed again.
  let balancerReady!: () => void;
  const ready = new Promise<void>((resolve) => (balancerReady = resolve));
  const { intercept, ...frontOptions } = options.front ?? { ari: false };
  const front = await startAcmeFront(pebble, {
    ...frontOptions,
    intercept: {
      before: async (r) => {
        if (r.method === "POST" && r.path === "/order-plz") await ready;
        return intercept?.before?.(r);
      },
      after: intercept?.after,
    },
  });
  stops.push(() => front.stop());

  const spawnInstance = (i: number): Instance => {
    const name = String.fromCharCode(97 + i);
    const configFile = writeConfig(path.join(work.dir, `${name}.yaml`), {
      ca: front.directoryUrl,
      ca_root: pebble.apiRootFile,
      accept_terms: true,
      storage: `${redis.url}${options.storageQuery ?? ""}`,
      listen: "127.0.0.1",
      admin: { socket: path.join(work.dir, `${name}.sock`) },
      sites: options.sites,
    });
    const ownHost = process.getuid?.() === 0 ? ["unshare", "--uts", "sh", "-c", `hostname padlock-${name} && exec "$0" "$@"`] : [];
    const p = spawnPadlock(["serve", "--config", configFile, "--log-format", "json", "--http-port", String(ports[i]!.http), "--https-port", String(ports[i]!.https)], { prefix: ownHost });
    const instance = { ...p, name, configFile, httpPort: ports[i]!.http, httpsPort: ports[i]!.https };
    stops.push(() => instance.stop());
    return instance;
  };
  const instances = Array.from({ length: count }, (_, i) => spawnInstance(i));
  await Promise.all(instances.map((i) => i.serving()));
  await waitFor("haproxy to have every instance in its rotation", () => balancer.allUp(), 10_000);
  balancerReady();
  let root: string | undefined;
  const cluster: Cluster = {
    redis,
    pebble,
    balancer,
    httpPort,
    httpsPort,
    instances,
    dir: work.dir,
    restart: async (old) => {
      const i = instances.indexOf(old);
      const fresh = spawnInstance(i);
      instances[i] = fresh;
      await fresh.serving();
      return fresh;
    },
    root: async () => (root ??= await pebble.issuingRoot()),
    serials: async (name) => {
      const r = await cluster.root();
      return Promise.all(cluster.instances.map((i) => httpsGet(name, i.httpsPort, r).then((a) => a.serial, () => undefined)));
    },
  };
  return cluster;
}

/** Waits until every instance serves one same certificate for `name` other than `not`; its serial. */
export function sameCertificateEverywhere(cluster: Cluster, name: string, not?: string, timeoutMs = 30_000): Promise<string> {
  return waitFor(`every instance serving one certificate for ${name}${not ? ` other than ${not}` : ""}`, async () => {
    const serials = await cluster.serials(name);
    const first = serials[0];
    return first !== undefined && first !== not && serials.every((s) => s === first) && first;
  }, timeoutMs, 25);
}

/** The times (ms since the epoch) at which each instance logged installing `serial`, with how it got it. */
export function installTimes(cluster: Cluster, serial: string): { instance: string; at: number; how: string }[] {
  const pattern = new RegExp(`installed certificate ${serial} \\(([^)]*)\\)`, "i");
  return cluster.instances.flatMap((i) =>
    i.logLines().flatMap((l) => {
      const m = typeof l.msg === "string" ? pattern.exec(l.msg) : null;
      return m ? [{ instance: i.name, at: Date.parse(String(l.time)), how: m[1]! }] : [];
    }),
  );
}
