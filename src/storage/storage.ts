// Where certificates, keys and account data live. Keys are slash-separated paths such as
// "certificates/<ca-id>/<name-set>/cert.pem". A filesystem implementation exists; a shared one
// (Redis) fits behind the same interface, which is why locking belongs to storage.
export interface Storage {
  /** A human-readable location, for log lines and error messages. */
  readonly location: string;
  get(key: string): Promise<Buffer | undefined>;
  /** Atomic: readers see the old value or the new one, never a mix. `secret` keeps it private (0600). */
  put(key: string, value: string | Buffer, options?: { secret?: boolean }): Promise<void>;
  /** Keys directly or indirectly under a prefix. */
  list(prefix: string): Promise<string[]>;
  delete(key: string): Promise<void>;
  /**
   * Waits until no other holder (in this process or another sharing the storage) has the lock,
   * then takes it. The lock is refreshed while held; a holder that died stops refreshing and
   * its lock is taken over once `ttlMs` has passed without a refresh.
   */
  lock(name: string, options?: LockOptions): Promise<StorageLock>;
}

export interface LockOptions {
  ttlMs?: number;
  /** How often to look again while someone else holds it. */
  pollMs?: number;
  /** Give up (throw) after this long; default: wait as long as it takes. */
  timeoutMs?: number;
}

export interface StorageLock {
  release(): Promise<void>;
}

export const DEFAULT_LOCK_TTL_MS = 60_000;

/** Storage that cannot be used as configured; the message says what to do. */
export class StorageError extends Error {
  override name = "StorageError";
}
