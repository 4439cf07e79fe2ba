// Check: Redis storage, as every instance will use it — the connection (address, credentials,
// TLS), that the ACL lets padlock's user do all it does (entries, scripts, locks, change
// messages), the round trip's latency, and that change messages arrive (how the other instances
// hear of a new certificate or a challenge). What it writes is one probe entry and one lock,
// removed again.
import { randomBytes } from "node:crypto";
import type { RedisStorage } from "../../storage/redis-storage.js";
import type { RedisSettings } from "../../storage/redis-settings.js";
import { fail, ok, warn, type CheckResult } from "../check-result.js";

const SLOW_MS = 20;
const MESSAGE_WAIT_MS = 3_000;

export async function checkRedisStorage(settings: RedisSettings): Promise<{ results: CheckResult[]; storage?: RedisStorage }> {
  const { RedisStorage } = await import("../../storage/redis-storage.js");
  let storage: RedisStorage;
  try {
    storage = await RedisStorage.open(settings);
  } catch (err) {
    return { results: [fail("storage", (err as Error).message.replace(/ Fix: .*$/, ""), fixOf(err))] };
  }
  const results = [ok("storage", `connected to Redis at ${settings.location}${settings.username ? ` as ${settings.username}` : ""}`)];

  const probe = `doctor/probe-${randomBytes(6).toString("hex")}`;
  let heard: () => void = () => undefined;
  const arrived = new Promise<void>((resolve) => (heard = resolve));
  try {
    const stop = await storage.watch("doctor/", (key) => key === probe && heard());
    try {
      await storage.put(probe, "padlock doctor");
      if ((await storage.get(probe))?.toString() !== "padlock doctor") throw new Error(`${storage.describe(probe)} did not read back as written`);
      if (!(await storage.list("doctor/")).includes(probe)) throw new Error(`${storage.describe(probe)} is missing from the listing`);
      await (await storage.lock("doctor-probe", { timeoutMs: 5_000 })).release();
      await storage.delete(probe);
      results.push(ok("Redis permissions", `the user ${settings.username ?? "default"} may read, write, list and delete entries, run padlock's scripts and take locks under the prefix ${settings.prefix}`));
      let timer: NodeJS.Timeout | undefined;
      const inTime = await Promise.race([arrived.then(() => true), new Promise<boolean>((r) => (timer = setTimeout(() => r(false), MESSAGE_WAIT_MS)))]);
      clearTimeout(timer);
      results.push(
        inTime
          ? ok("Redis change messages", `a change was heard on the channel ${settings.prefix}changes: instances hear of each other's certificates and challenges at once`)
          : fail("Redis change messages", `no message on the channel ${settings.prefix}changes within ${MESSAGE_WAIT_MS / 1000} s of a write`, "check that nothing between padlock and Redis (a proxy, a cluster mode) drops PUBLISH/SUBSCRIBE; instances then see new certificates only at the periodic check"),
      );
    } finally {
      stop();
    }
  } catch (err) {
    await storage.delete(probe).catch(() => undefined);
    results.push(fail("Redis permissions", (err as Error).message.replace(/ Fix: .*$/, ""), fixOf(err)));
  }

  const rounds: number[] = [];
  for (let i = 0; i < 5; i++) rounds.push(await storage.ping().catch(() => Infinity));
  const median = rounds.sort((a, b) => a - b)[2]!;
  results.push(
    median <= SLOW_MS
      ? ok("Redis latency", `${median.toFixed(1)} ms a round trip (median of 5)`)
      : warn("Redis latency", `${median.toFixed(1)} ms a round trip (median of 5)`, "run Redis near the instances: a challenge answered from another instance may cost one round trip, and every write several"),
  );
  return { results, storage };
}

/** The fix an error message carries after "Fix: ", else a general one. */
function fixOf(err: unknown): string {
  return /Fix: (.*)$/s.exec((err as Error).message)?.[1] ?? "check the storage: URL in the config";
}
