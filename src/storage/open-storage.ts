// The storage a config asks for. Folder paths are relative to the config file's folder; with
// none set, $PADLOCK_STORAGE (the container image's /data), else "padlock-data" beside the config file.
import path from "node:path";
import type { Config } from "../config/schema.js";
import { FsStorage } from "./fs-storage.js";
import type { Storage } from "./storage.js";

export const DEFAULT_STORAGE = "padlock-data";

/** The storage folder, or undefined when storage is not a folder. */
export function storageDir(config: Config, baseDir: string): string | undefined {
  const s = config.storage ?? (process.env.PADLOCK_STORAGE || DEFAULT_STORAGE);
  return /^[a-z]+:\/\//.test(s) ? undefined : path.resolve(baseDir, s);
}

export async function openStorage(config: Config, baseDir: string): Promise<Storage> {
  const dir = storageDir(config, baseDir);
  if (!dir) throw new Error(`storage: ${config.storage} is not supported; use a folder path`);
  return FsStorage.open(dir);
}
