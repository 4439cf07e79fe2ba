// Where the package's own files are, whether run from a clone (dist/src/…) or an install.
import { fileURLToPath } from "node:url";
import os from "node:os";
import path from "node:path";

export const packageRoot = path.resolve(fileURLToPath(new URL(".", import.meta.url)), "../..");
export const exampleBlogDir = path.join(packageRoot, "examples", "blog");
export const defaultThemeDir = path.join(packageRoot, "themes", "default");

/** Storage when no config names one (e.g. `padlock serve` with no config): the user's data folder. */
export function defaultStorageDir(): string {
  const dataHome = process.env.XDG_DATA_HOME || path.join(os.homedir(), ".local", "share");
  return path.join(dataHome, "padlock");
}

/**
 * The storage folder a config's `storage` setting names (relative to the config's folder), the
 * default when unset, or undefined when storage is not a folder (redis://…).
 */
export function storageFolder(storage: string | undefined, baseDir: string): string | undefined {
  if (storage === undefined) return defaultStorageDir();
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(storage)) return undefined;
  return path.resolve(baseDir, storage);
}
