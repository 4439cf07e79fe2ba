// `padlock storage copy FROM TO`: everything one storage holds copied into another (a folder to
// Redis when a single instance becomes a cluster, Redis to a folder on the way back). Entries go
// as they are, so keys sealed with storage_key stay sealed; each keeps its modification time and
// secrecy. What only one running instance uses is left out: locks, challenges in flight, the
// admin socket and token. An entry the destination holds in a newer version than the source is
// never overwritten without `force`: then nothing at all is copied, and every such entry is named.
import { isRedisUrl, parseRedisUrl } from "./redis-settings.js";
import { FsStorage } from "./fs-storage.js";
import { StorageError, type EntryStat, type Storage } from "./storage.js";
import { existsSync, statSync } from "node:fs";
import path from "node:path";

type CopyableStorage = Storage & Required<Pick<Storage, "stat" | "write">>;

const LEFT_OUT = [/^locks\//, /^challenges\//, /^admin\.(sock|token)$/];

export interface CopyPlan {
  /** Keys to write, with why: missing at the destination, older there, or newer there and forced. */
  copy: { key: string; why: "new" | "older" | "newer, forced" }[];
  unchanged: string[];
  /** Newer at the destination (refused without force). */
  newer: { key: string; source: EntryStat; destination: EntryStat }[];
}

/** Opens FROM or TO: a Redis URL (password from $PADLOCK_REDIS_PASSWORD when not in it), or a folder. */
export async function openCopyEnd(spec: string, role: "source" | "destination"): Promise<CopyableStorage> {
  if (isRedisUrl(spec)) {
    const { RedisStorage } = await import("./redis-storage.js");
    return RedisStorage.open(parseRedisUrl(spec, process.cwd()));
  }
  if (/^[a-z]+:\/\//i.test(spec)) throw new StorageError(`${spec}: not a storage padlock knows; give a folder path, redis:// or rediss://`);
  const dir = path.resolve(spec);
  if (role === "source" && !(existsSync(dir) && statSync(dir).isDirectory())) throw new StorageError(`${dir}: no such storage folder to copy from`);
  return role === "source" ? FsStorage.existing(dir) : FsStorage.open(dir);
}

export async function planCopy(from: CopyableStorage, to: CopyableStorage, force: boolean): Promise<CopyPlan> {
  const plan: CopyPlan = { copy: [], unchanged: [], newer: [] };
  for (const key of await from.list("")) {
    if (LEFT_OUT.some((r) => r.test(key))) continue;
    const source = await from.stat(key);
    if (!source) continue; // gone meanwhile, or not a file
    const destination = await to.stat(key);
    if (!destination) plan.copy.push({ key, why: "new" });
    else if (await same(from, to, key)) plan.unchanged.push(key);
    else if (destination.modified <= source.modified) plan.copy.push({ key, why: "older" });
    else if (force) plan.copy.push({ key, why: "newer, forced" });
    else plan.newer.push({ key, source, destination });
  }
  return plan;
}

/** Carries out a plan with no refused entries; the number of entries written. */
export async function copyEntries(from: CopyableStorage, to: CopyableStorage, plan: CopyPlan): Promise<number> {
  if (plan.newer.length > 0) throw new Error("a plan with newer entries at the destination is not carried out");
  for (const { key } of plan.copy) {
    const [value, entry] = await Promise.all([from.get(key), from.stat(key)]);
    if (value === undefined || !entry) throw new StorageError(`${from.describe(key)} disappeared during the copy; run the copy again`);
    await to.write(key, value, entry);
  }
  return plan.copy.length;
}

async function same(from: Storage, to: Storage, key: string): Promise<boolean> {
  const [a, b] = await Promise.all([from.get(key), to.get(key)]);
  return a !== undefined && b !== undefined && a.equals(b);
}
