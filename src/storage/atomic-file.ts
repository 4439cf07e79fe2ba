// Files that are never seen half-written: the data goes to a temp file beside the target (exact
// mode, fsynced unless the file need not survive a crash of the machine), which then replaces the
// target by rename or is linked to a name still free.
import { randomBytes } from "node:crypto";
import { constants as fsConstants, promises as fs } from "node:fs";
import path from "node:path";

export interface WriteOptions {
  /** false: not forced to disk (the file matters only while this boot lasts). Default true. */
  durable?: boolean;
}

/** A temp file beside `file` holding `data` (ends in .tmp), fsynced when durable; removed again on failure. */
export async function writeTempFile(file: string, data: string | Buffer, mode: number, { durable = true }: WriteOptions = {}): Promise<string> {
  const temp = `${file}.${randomBytes(6).toString("hex")}.tmp`;
  const handle = await fs.open(temp, "wx", mode);
  try {
    await handle.chmod(mode); // exact, whatever the umask
    await handle.writeFile(data);
    if (durable) await handle.sync();
  } catch (err) {
    await fs.rm(temp, { force: true });
    throw err;
  } finally {
    await handle.close();
  }
  return temp;
}

/** Atomically replaces `file` with `data`. */
export async function replaceFile(file: string, data: string | Buffer, mode: number, options: WriteOptions = {}): Promise<void> {
  const temp = await writeTempFile(file, data, mode, options);
  try {
    await fs.rename(temp, file);
  } catch (err) {
    await fs.rm(temp, { force: true });
    throw err;
  }
  if (options.durable !== false) await syncDir(path.dirname(file));
}

/** Atomically creates `file` with `data` unless it exists: false when something else created it first. */
export async function createFile(file: string, data: string | Buffer, mode: number, options: WriteOptions = {}): Promise<boolean> {
  const temp = await writeTempFile(file, data, mode, options);
  try {
    await fs.link(temp, file); // fails with EEXIST instead of replacing
    if (options.durable !== false) await syncDir(path.dirname(file));
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw err;
  } finally {
    await fs.rm(temp, { force: true });
  }
}

/** Makes a rename or link in `dir` durable. */
export async function syncDir(dir: string): Promise<void> {
  const handle = await fs.open(dir, fsConstants.O_RDONLY).catch(() => undefined);
  if (!handle) return;
  try {
    await handle.sync();
  } catch {
    // Some file systems cannot fsync a directory; the rename is still atomic.
  } finally {
    await handle.close();
  }
}
