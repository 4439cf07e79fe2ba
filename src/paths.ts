// Where the package's own files are, whether run from a clone (dist/src/…) or an install.
import { fileURLToPath } from "node:url";
import os from "node:os";
import path from "node:path";

export const packageRoot = path.resolve(fileURLToPath(new URL(".", import.meta.url)), "../..");
export const exampleBlogDir = path.join(packageRoot, "examples", "blog");
export const defaultThemeDir = path.join(packageRoot, "themes", "default");

/** Storage when padlock runs with no config file at all: $PADLOCK_STORAGE, else the user's data folder. */
export function defaultStorageDir(): string {
  if (process.env.PADLOCK_STORAGE) return path.resolve(process.env.PADLOCK_STORAGE);
  const dataHome = process.env.XDG_DATA_HOME || path.join(os.homedir(), ".local", "share");
  return path.join(dataHome, "padlock");
}

