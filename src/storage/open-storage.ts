// The storage a config asks for. Folder paths are relative to the config file's folder; with
// none set, $PADLOCK_STORAGE (the container image's /data), else "padlock-data" beside the config
// file. A redis:// or rediss:// URL is a Redis shared by several instances. With storage_key (or
// $PADLOCK_STORAGE_KEY) set, private keys are encrypted in either.
import path from "node:path";
import type { Logger } from "../log.js";
import { EncryptedStorage, StorageKey } from "./encrypted-storage.js";
import { FsStorage } from "./fs-storage.js";
import { isRedisUrl, parseRedisUrl } from "./redis-settings.js";
import type { Storage } from "./storage.js";

export const DEFAULT_STORAGE = "padlock-data";

/** The config's keys about storage (storage imports nothing from config: config checks its values with storage's parsers). */
export interface StorageConfig {
  storage?: string;
  storage_key?: string;
}

/** The config's storage as written (or its default): a folder path or a Redis URL. */
export function storageSpec(config: StorageConfig): string {
  return config.storage ?? (process.env.PADLOCK_STORAGE || DEFAULT_STORAGE);
}

/** The storage folder, or undefined when storage is not a folder. */
export function storageDir(config: StorageConfig, baseDir: string): string | undefined {
  const s = storageSpec(config);
  return /^[a-z]+:\/\//.test(s) ? undefined : path.resolve(baseDir, s);
}

/** Opens the storage to serve from: a folder is created when missing and its ownership checked; Redis is connected to. */
export async function openStorage(config: StorageConfig, baseDir: string, log?: Logger): Promise<Storage> {
  const key = StorageKey.fromConfig(config.storage_key);
  const spec = storageSpec(config);
  const inner = isRedisUrl(spec) ? await openRedis(spec, baseDir, log) : await FsStorage.open(path.resolve(baseDir, spec));
  return key ? new EncryptedStorage(inner, key) : inner;
}

/**
 * The storage as it is, for commands that read or tidy it (certs, doctor): a folder without
 * open()'s checks (undefined when it does not exist), or a Redis connection.
 */
export async function openExistingStorage(config: StorageConfig, baseDir: string): Promise<Storage | undefined> {
  const key = StorageKey.fromConfig(config.storage_key);
  const spec = storageSpec(config);
  let inner: Storage;
  if (isRedisUrl(spec)) inner = await openRedis(spec, baseDir);
  else {
    const { existsSync } = await import("node:fs");
    const dir = path.resolve(baseDir, spec);
    if (!existsSync(dir)) return undefined;
    inner = FsStorage.existing(dir);
  }
  return key ? new EncryptedStorage(inner, key) : inner;
}

/** Loaded only for Redis storage: the client is not part of every start. */
async function openRedis(spec: string, baseDir: string, log?: Logger): Promise<Storage> {
  const { RedisStorage } = await import("./redis-storage.js");
  return RedisStorage.open(parseRedisUrl(spec, baseDir), { log });
}
