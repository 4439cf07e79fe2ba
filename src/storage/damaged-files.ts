// A stored file that fails its check (a truncated PEM, a key that does not match its
// certificate, JSON that does not parse) is never deleted and never silently replaced: it is
// moved aside to `<file>.damaged-<UTC time>` and named in one ERROR line that says what is
// wrong with it and what padlock does about it.
import type { Logger } from "../log.js";
import type { Storage } from "./storage.js";

/** `<key>.damaged-20250102T030405.678Z`: sorts by time, no colons (some tools dislike them in names). */
export function damagedCopyKey(key: string, now: Date): string {
  return `${key}.damaged-${now.toISOString().replace(/[-:]/g, "")}`;
}

export function isDamagedCopy(key: string): boolean {
  return /\.damaged-\d{8}T\d{6}(\.\d+)?Z$/.test(key);
}

/** The one line: which file, what is wrong, where the copy is, what padlock does. */
export function damagedFileMessage(file: string, problem: string, copy: string | { failed: string }, action: string): string {
  const kept = typeof copy === "string" ? `moved aside to ${copy}` : `it could not be moved aside (${copy.failed}) and is left as it is`;
  return `damaged file ${file}: ${problem}; ${kept}; ${action}`;
}

/** Moves a damaged file aside and logs the one ERROR line; resolves to the copy's key (undefined if the move failed). */
export async function setAsideDamaged(storage: Storage, log: Logger, key: string, problem: string, action: string, now = new Date()): Promise<string | undefined> {
  const copy = damagedCopyKey(key, now);
  try {
    await storage.move(key, copy);
  } catch (err) {
    log.error({ file: storage.describe(key), problem }, damagedFileMessage(storage.describe(key), problem, { failed: (err as Error).message }, action));
    return undefined;
  }
  log.error({ file: storage.describe(key), problem, copy: storage.describe(copy) }, damagedFileMessage(storage.describe(key), problem, storage.describe(copy), action));
  return copy;
}
