// Where certificates, keys and account data live. Keys are slash-separated paths such as
// "certificates/<ca-id>/<name-set>/cert.pem". Two implementations: a folder (fs-storage.ts) and
// Redis, shared by several instances (redis-storage.ts); locking belongs to storage for that.
import type { ProcessIdentity } from "./process-identity.js";

export interface Storage {
  /** A human-readable location, for log lines and error messages. */
  readonly location: string;
  /** Where one key is, for people: a file's path, or the store and key. */
  describe(key: string): string;
  get(key: string): Promise<Buffer | undefined>;
  /**
   * Atomic: readers see the old value or the new one, never a mix. `secret` keeps it private
   * (0600). A failure is a StorageWriteError that names the place, the cause and the fix.
   */
  put(key: string, value: string | Buffer, options?: PutOptions): Promise<void>;
  /** Renames `from` to `to` in one step, replacing `to`; throws when `from` does not exist. */
  move(from: string, to: string): Promise<void>;
  /** Keys directly or indirectly under a prefix. */
  list(prefix: string): Promise<string[]>;
  delete(key: string): Promise<void>;
  /**
   * Waits until no other holder (in this process or another sharing the storage) has the lock,
   * then takes it. The holder (host, pid, start time) is recorded and renews its lease while it
   * holds the lock. A holder that is known to be gone (its process no longer runs on this host)
   * is taken over at once; any other holder is waited for until its lease ends unrenewed.
   */
  lock(name: string, options?: LockOptions): Promise<StorageLock>;
  /**
   * Optional, for storage that instances share: calls `onChange` soon after any instance (this
   * one too) writes, moves or deletes an entry under `prefix`, with its key; with undefined when
   * changes may have been missed (the connection was lost, a message skipped), so everything
   * under the prefix is to be looked at again. Resolves once changes are followed, to a function
   * that stops following them.
   */
  watch?(prefix: string, onChange: (key: string | undefined) => void): Promise<() => void>;
  /** Optional: when an entry was last written and whether it is secret (for `padlock storage copy`); undefined when there is none. */
  stat?(key: string): Promise<EntryStat | undefined>;
  /** Optional: put() keeping a given modification time (a copy from another storage). */
  write?(key: string, value: string | Buffer, entry: EntryStat): Promise<void>;
  /** Optional: lets go of what the storage holds open (a shared storage's connections). */
  close?(): Promise<void>;
}

export interface PutOptions {
  /** Only its owner may read it (0600). */
  secret?: boolean;
  /**
   * false for what matters only while padlock runs (a challenge token, a status record): the
   * write is as atomic but not forced to disk first, which spares a first certificate's
   * dozen writes their fsyncs. Default true.
   */
  durable?: boolean;
}

/** An entry's modification time and secrecy, as `padlock storage copy` compares and keeps them. */
export interface EntryStat {
  /** When it was last written (ms since the epoch). */
  modified: number;
  secret: boolean;
}

export interface LockHolder extends ProcessIdentity {
  /** When it took the lock (ISO time). */
  since: string;
}

export type LockEvent =
  /** Someone else holds it; told once per holder. */
  | { type: "waiting"; lock: string; holder: LockHolder; leaseEnds: Date }
  | { type: "taken-over"; lock: string; holder: LockHolder; why: string }
  /** The lock's record did not parse: set aside as `copy`, and the lock taken. */
  | { type: "damaged"; lock: string; problem: string; copy: string }
  /** The lease ran out unrenewed (storage unreachable too long) and `holder` took the lock meanwhile: the work under it is no longer exclusive. */
  | { type: "lost"; lock: string; holder?: LockHolder };

export interface LockOptions {
  /** How long a lease lasts without renewal (the holder renews it every third of this). */
  ttlMs?: number;
  /** How often to look again while someone else holds it. */
  pollMs?: number;
  /** Give up (throw) after this long; default: wait as long as it takes. */
  timeoutMs?: number;
  /** Told what happens while waiting, for log lines. */
  onEvent?: (event: LockEvent) => void;
}

export interface StorageLock {
  release(): Promise<void>;
}

export const DEFAULT_LOCK_TTL_MS = 60_000;

/** Storage that cannot be used as configured; the message says what to do. */
export class StorageError extends Error {
  override name = "StorageError";
}

/** A write that failed: the message names where, the system's error code and the fix. */
export class StorageWriteError extends StorageError {
  override name = "StorageWriteError";
  constructor(
    message: string,
    /** The system's error code (EROFS, ENOSPC, EACCES…), when there is one. */
    readonly code?: string,
  ) {
    super(message);
  }
}

/** Shared storage that cannot be reached right now (a write, read or lock failed for that alone); retrying later helps. */
export class StorageUnavailableError extends StorageWriteError {
  override name = "StorageUnavailableError";
}
