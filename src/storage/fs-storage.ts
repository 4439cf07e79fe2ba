// Storage in a folder: one file per key, written atomically (temp file, fsync, rename), secrets
// mode 0600, folders 0700. Locks are files created whole (temp file, then link) that record
// their holder; the holder renews its lease by touching the file.
import { randomBytes } from "node:crypto";
import { constants as fsConstants, promises as fs, readFileSync } from "node:fs";
import path from "node:path";
import { currentUserLabel, userLabel } from "../system/users.js";
import { createFile, replaceFile, syncDir } from "./atomic-file.js";
import { damagedCopyKey } from "./damaged-files.js";
import { asProcessIdentity, describeProcess, isGone, isThisProcess, thisProcess } from "./process-identity.js";
import { DEFAULT_LOCK_TTL_MS, StorageError, StorageWriteError, type EntryStat, type LockHolder, type LockOptions, type PutOptions, type Storage, type StorageLock } from "./storage.js";

const LOCK_DIR = "locks";

interface LockRecord extends LockHolder {
  /** Tells two holders in one process apart, and a lock this process left behind from one it holds. */
  id: string;
  leaseMs: number;
}

/** Ids of the locks this process holds right now. */
const heldHere = new Set<string>();

export class FsStorage implements Storage {
  private constructor(readonly root: string) {}

  get location(): string {
    return this.root;
  }

  describe(key: string): string {
    return this.file(key);
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

  async put(key: string, value: string | Buffer, options: PutOptions = {}): Promise<void> {
    const file = this.file(key);
    await this.writing(file, () => replaceFile(file, value, options.secret ? 0o600 : 0o644, { durable: options.durable }));
  }

  /** A file's modification time; secret when only its owner may read it. */
  async stat(key: string): Promise<EntryStat | undefined> {
    try {
      const st = await fs.stat(this.file(key));
      return st.isFile() ? { modified: st.mtimeMs, secret: (st.mode & 0o077) === 0 } : undefined;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw err;
    }
  }

  async write(key: string, value: string | Buffer, entry: EntryStat): Promise<void> {
    await this.put(key, value, { secret: entry.secret });
    const when = new Date(entry.modified);
    await fs.utimes(this.file(key), when, when);
  }

  async move(from: string, to: string): Promise<void> {
    const source = this.file(from);
    const target = this.file(to);
    await this.writing(target, () => fs.rename(source, target));
    await syncDir(path.dirname(target));
    if (path.dirname(source) !== path.dirname(target)) await this.pruneEmpty(path.dirname(source));
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
    const file = this.file(key);
    await fs.rm(file, { force: true }).catch((err: NodeJS.ErrnoException) => {
      throw writeError(err, file, this.root);
    });
    await this.pruneEmpty(path.dirname(file));
  }

  async lock(name: string, options: LockOptions = {}): Promise<StorageLock> {
    const ttl = options.ttlMs ?? DEFAULT_LOCK_TTL_MS;
    const poll = options.pollMs ?? Math.min(250, ttl / 4);
    const key = `${LOCK_DIR}/${name}.lock`;
    const file = this.file(key);
    const record: LockRecord = { ...thisProcess(), since: new Date().toISOString(), id: randomBytes(8).toString("hex"), leaseMs: ttl };
    const content = JSON.stringify(record);
    const deadline = options.timeoutMs === undefined ? Infinity : Date.now() + options.timeoutMs;
    const told = new Set<string>();
    for (;;) {
      // Counted as held before the file exists: another waiter in this process may read it at once.
      heldHere.add(record.id);
      // Not forced to disk: a lock outlives no reboot (its holder's process is gone then).
      const created = await this.writing(file, () => createFile(file, content, 0o600, { durable: false })).catch((err: unknown) => {
        heldHere.delete(record.id);
        throw err;
      });
      if (created) return new FileLock(file, content, record.id, ttl);
      heldHere.delete(record.id);
      const seen = await this.lockHolder(file);
      if (seen === undefined) continue;
      if ("problem" in seen) {
        // Created whole (temp file, then link), a lock record that does not parse is damaged.
        const copy = this.file(damagedCopyKey(key, new Date()));
        if (await this.takeOver(file, seen.raw, copy)) options.onEvent?.({ type: "damaged", lock: file, problem: seen.problem, copy });
        continue;
      }
      const { holder, raw, leaseEnds } = seen;
      const why = isThisProcess(holder) && !heldHere.has(holder.id)
        ? "this process left it behind (its release could not be written)"
        : isGone(holder)
          ? `its process (${describeProcess(holder)}) is no longer running`
          : Date.now() >= leaseEnds.getTime()
            ? `its lease ended at ${leaseEnds.toISOString()} without being renewed`
            : undefined;
      if (why) {
        if (await this.takeOver(file, raw)) options.onEvent?.({ type: "taken-over", lock: file, holder, why });
        continue;
      }
      if (!told.has(holder.id)) {
        told.add(holder.id);
        options.onEvent?.({ type: "waiting", lock: file, holder, leaseEnds });
      }
      if (Date.now() > deadline) throw new StorageError(`timed out waiting for the lock ${file}, held by ${describeProcess(holder)} since ${holder.since}`);
      await new Promise((r) => setTimeout(r, poll));
    }
  }

  /** The lock's holder and when its lease ends; undefined when there is no lock file. */
  private async lockHolder(file: string): Promise<{ holder: LockRecord; raw: string; leaseEnds: Date } | { problem: string; raw: string } | undefined> {
    let raw: string;
    let mtime: number;
    try {
      [raw, mtime] = await Promise.all([fs.readFile(file, "utf8"), fs.stat(file).then((st) => st.mtimeMs)]);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw err;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch (err) {
      return { problem: `not a lock record (${(err as Error).message})`, raw };
    }
    const who = asProcessIdentity(parsed);
    const rest = parsed as Partial<LockRecord>;
    if (!who || typeof rest.id !== "string" || typeof rest.since !== "string") return { problem: "not a lock record (host, pid, started, since or id missing)", raw };
    const holder: LockRecord = { ...who, since: rest.since, id: rest.id, leaseMs: typeof rest.leaseMs === "number" ? rest.leaseMs : DEFAULT_LOCK_TTL_MS };
    return { holder, raw, leaseEnds: new Date(mtime + holder.leaseMs) };
  }

  /**
   * Removes a lock whose holder is gone. It is moved aside first, so that of two processes
   * noticing at once only one removes it; if what was moved is not what was judged (a new holder
   * took it in between), it is put back. `keepAs` keeps the moved file (a damaged lock).
   */
  private async takeOver(file: string, judged: string, keepAs?: string): Promise<boolean> {
    const aside = keepAs ?? `${file}.${randomBytes(6).toString("hex")}.stale`;
    try {
      await fs.rename(file, aside);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return false;
      throw writeError(err as NodeJS.ErrnoException, file, this.root);
    }
    const moved = await fs.readFile(aside, "utf8").catch(() => undefined);
    if (moved !== judged) {
      await fs.link(aside, file).catch(() => undefined);
      await fs.rm(aside, { force: true });
      return false;
    }
    if (!keepAs) await fs.rm(aside, { force: true });
    return true;
  }

  /** Runs a write into `file`'s folder (created when missing); a failure becomes a StorageWriteError. */
  private async writing<T>(file: string, write: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        await makeFolders(path.dirname(file));
        return await write();
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        // Another process sharing the folder may remove an emptied folder between mkdir and write.
        if (code === "ENOENT" && attempt < 3) continue;
        if (code === undefined) throw err;
        throw writeError(err as NodeJS.ErrnoException, file, this.root);
      }
    }
  }

  /** Removes folders left empty (a set adopted elsewhere, the last token withdrawn), up to the root. */
  private async pruneEmpty(dir: string): Promise<void> {
    for (let d = dir; d.startsWith(this.root + path.sep); d = path.dirname(d)) {
      try {
        await fs.rmdir(d);
      } catch {
        return; // not empty (or not ours to remove)
      }
    }
  }

  private file(key: string): string {
    const parts = key.split("/").filter((p) => p !== "");
    if (parts.some((p) => p === "." || p === "..")) throw new Error(`invalid storage key "${key}"`);
    return path.join(this.root, ...parts);
  }
}

/**
 * mkdir -p, one level at a time: a recursive mkdir reports ENOENT where creating a level
 * failed for another reason (EROFS, EACCES), which would hide the cause from the message.
 */
async function makeFolders(dir: string): Promise<void> {
  const missing: string[] = [];
  for (let d = dir; ; d = path.dirname(d)) {
    const exists = await fs.stat(d).then(() => true, () => false);
    if (exists || d === path.dirname(d)) break;
    missing.unshift(d);
  }
  for (const d of missing) {
    await fs.mkdir(d, { mode: 0o700 }).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== "EEXIST") throw err;
    });
  }
}

class FileLock implements StorageLock {
  private readonly refresher: NodeJS.Timeout;
  private released = false;

  constructor(
    private readonly file: string,
    private readonly content: string,
    private readonly id: string,
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
    heldHere.delete(this.id);
    // Only remove the lock if it is still ours (it may have been taken over after a long stall).
    const current = await fs.readFile(this.file, "utf8").catch(() => undefined);
    if (current === this.content) await fs.rm(this.file, { force: true });
  }
}

/** A failed write in words: the path, the system's code, and what fixes it. */
function writeError(err: NodeJS.ErrnoException, file: string, root: string): StorageWriteError {
  const code = err.code ?? "unknown error";
  const user = currentUserLabel();
  let cause: string;
  let fix: string;
  switch (code) {
    case "EROFS": {
      const mount = mountPointOf(file);
      cause = `the file system${mount ? ` mounted at ${mount}` : ""} is read-only`;
      fix = `remount it read-write (sudo mount -o remount,rw ${mount ?? "<mount point>"}) or point storage: at a writable folder`;
      break;
    }
    case "ENOSPC":
    case "EDQUOT":
      cause = code === "ENOSPC" ? "the disk is full" : "the user's disk quota is used up";
      fix = `free space on the file system holding ${root} (df -h ${root})`;
      break;
    case "EACCES":
    case "EPERM":
      cause = `${user} is not allowed to write there`;
      fix = `sudo chown -R ${user}: ${root} && chmod -R u+rwX ${root}`;
      break;
    default:
      cause = err.message;
      fix = `check the file system holding ${root}`;
  }
  return new StorageWriteError(`cannot write ${file}: ${code} (${cause}). Fix: ${fix}`, err.code);
}

/** The mount point holding `file`, from /proc/self/mountinfo (the longest matching prefix). */
function mountPointOf(file: string): string | undefined {
  try {
    const points = readFileSync("/proc/self/mountinfo", "utf8")
      .split("\n")
      .map((line) => line.split(" ")[4]?.replace(/\\040/g, " "))
      .filter((p): p is string => p !== undefined && (file === p || file.startsWith(p.endsWith("/") ? p : p + "/")));
    return points.sort((a, b) => b.length - a.length)[0];
  } catch {
    return undefined;
  }
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
