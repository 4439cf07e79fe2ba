// Storage in a folder: one file per key, written atomically (temp file, fsync, rename), secrets
// mode 0600, folders 0700. Locks are files created with O_EXCL and refreshed by touching them.
import { randomBytes } from "node:crypto";
import { constants as fsConstants, promises as fs } from "node:fs";
import path from "node:path";
import { hostname } from "node:os";
import { currentUserLabel, userLabel } from "../system/users.js";
import { replaceFile } from "./atomic-file.js";
import { DEFAULT_LOCK_TTL_MS, StorageError, type LockOptions, type Storage, type StorageLock } from "./storage.js";

const LOCK_DIR = "locks";

export class FsStorage implements Storage {
  private constructor(readonly root: string) {}

  get location(): string {
    return this.root;
  }

  /**
   * Opens (creating when missing) a storage folder and checks that this process owns and can
   * write everything in it, so a problem stops start-up instead of a renewal months later.
   */
  static async open(dir: string): Promise<FsStorage> {
    const root = path.resolve(dir);
    try {
      await fs.mkdir(root, { recursive: true, mode: 0o700 });
    } catch (err) {
      throw new StorageError(`cannot create the storage folder ${root}: ${(err as Error).message}. ${fixHint(path.dirname(root))}`);
    }
    await checkOwnership(root);
    return new FsStorage(root);
  }

  /**
   * An existing folder as it is, without open()'s checks (which create the folder and write a
   * probe file): for commands that read or tidy a padlock's storage, such as certs and doctor.
   */
  static existing(dir: string): FsStorage {
    return new FsStorage(path.resolve(dir));
  }

  async get(key: string): Promise<Buffer | undefined> {
    try {
      return await fs.readFile(this.file(key));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw err;
    }
  }

  async put(key: string, value: string | Buffer, options: { secret?: boolean } = {}): Promise<void> {
    const file = this.file(key);
    await fs.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
    await replaceFile(file, value, options.secret ? 0o600 : 0o644);
  }

  async list(prefix: string): Promise<string[]> {
    const base = this.file(prefix);
    const found: string[] = [];
    const walk = async (dir: string): Promise<void> => {
      let entries;
      try {
        entries = await fs.readdir(dir, { withFileTypes: true });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "ENOENT") return;
        throw err;
      }
      for (const e of entries) {
        const full = path.join(dir, e.name);
        if (e.isDirectory()) await walk(full);
        else if (!e.name.endsWith(".tmp")) found.push(path.relative(this.root, full).split(path.sep).join("/"));
      }
    };
    await walk(base);
    return found.sort();
  }

  async delete(key: string): Promise<void> {
    await fs.rm(this.file(key), { force: true });
  }

  async lock(name: string, options: LockOptions = {}): Promise<StorageLock> {
    const ttl = options.ttlMs ?? DEFAULT_LOCK_TTL_MS;
    const poll = options.pollMs ?? Math.min(250, ttl / 4);
    const file = this.file(`${LOCK_DIR}/${name}.lock`);
    await fs.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
    const owner = JSON.stringify({ pid: process.pid, host: hostname(), id: randomBytes(8).toString("hex") });
    const deadline = options.timeoutMs === undefined ? Infinity : Date.now() + options.timeoutMs;
    for (;;) {
      try {
        await fs.writeFile(file, owner, { flag: "wx", mode: 0o600 });
        return new FileLock(file, owner, ttl);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      }
      await takeOverIfStale(file, ttl);
      if (Date.now() > deadline) throw new StorageError(`timed out waiting for the lock ${file} (held by ${await fs.readFile(file, "utf8").catch(() => "?")})`);
      await new Promise((r) => setTimeout(r, poll));
    }
  }

  private file(key: string): string {
    const parts = key.split("/").filter((p) => p !== "");
    if (parts.some((p) => p === "." || p === "..")) throw new Error(`invalid storage key "${key}"`);
    return path.join(this.root, ...parts);
  }
}

class FileLock implements StorageLock {
  private readonly refresher: NodeJS.Timeout;
  private released = false;

  constructor(
    private readonly file: string,
    private readonly owner: string,
    ttl: number,
  ) {
    this.refresher = setInterval(() => {
      const now = new Date();
      fs.utimes(this.file, now, now).catch(() => undefined);
    }, ttl / 3);
    this.refresher.unref();
  }

  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    clearInterval(this.refresher);
    // Only remove the lock if it is still ours (it may have been taken over after a long stall).
    const current = await fs.readFile(this.file, "utf8").catch(() => undefined);
    if (current === this.owner) await fs.rm(this.file, { force: true });
  }
}

/**
 * A lock not refreshed within its TTL belongs to a dead process. It is moved aside before
 * removal so that of two processes noticing at once, only one removes it; if what was moved
 * turns out to be a fresh lock (taken between our look and our move), it is put back.
 */
async function takeOverIfStale(file: string, ttl: number): Promise<void> {
  const stat = await fs.stat(file).catch(() => undefined);
  if (!stat || Date.now() - stat.mtimeMs < ttl) return;
  const aside = `${file}.${randomBytes(6).toString("hex")}.stale`;
  try {
    await fs.rename(file, aside);
  } catch {
    return;
  }
  const movedStat = await fs.stat(aside).catch(() => undefined);
  if (movedStat && Date.now() - movedStat.mtimeMs < ttl) {
    await fs.link(aside, file).catch(() => undefined);
  }
  await fs.rm(aside, { force: true });
}

function fixHint(dir: string): string {
  return `Fix: sudo chown -R ${currentUserLabel()}: ${dir}  (or point storage: at a folder ${currentUserLabel()} owns)`;
}

/** Everything under root must belong to this process's user and be writable by it. */
async function checkOwnership(root: string): Promise<void> {
  if (typeof process.geteuid !== "function") return;
  const me = process.geteuid();
  const visit = async (p: string): Promise<void> => {
    // Another instance sharing the folder may rename or remove a file between readdir and lstat.
    const stat = await fs.lstat(p).catch((err: NodeJS.ErrnoException) => {
      if (err.code === "ENOENT" && p !== root) return undefined;
      throw err;
    });
    if (!stat) return;
    if (stat.uid !== me) {
      throw new StorageError(
        `the storage ${p === root ? "folder" : "file"} ${p} is owned by ${userLabel(stat.uid)}, but padlock runs as ${currentUserLabel()} and must own it. ` +
          `Fix: sudo chown -R ${currentUserLabel()}: ${root}`,
      );
    }
    if (stat.isDirectory()) {
      const entries = await fs.readdir(p).catch((err: NodeJS.ErrnoException) => {
        if (err.code === "ENOENT") return [];
        throw err;
      });
      for (const entry of entries) await visit(path.join(p, entry));
    }
  };
  await visit(root);
  try {
    await fs.access(root, fsConstants.W_OK | fsConstants.X_OK);
    const probe = path.join(root, `.write-test-${process.pid}`);
    await fs.writeFile(probe, "");
    await fs.rm(probe);
  } catch (err) {
    throw new StorageError(`the storage folder ${root} is not writable by ${currentUserLabel()} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}). Fix: sudo chown -R ${currentUserLabel()}: ${root} && chmod u+rwx ${root}`);
  }
}
