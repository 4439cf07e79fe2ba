// Private keys encrypted at rest. With storage_key (or $PADLOCK_STORAGE_KEY) set, every entry
// written as a secret (certificate and account keys, a challenge's key) is sealed with
// AES-256-GCM (node:crypto) before it reaches the storage, and opened when read. The key itself
// is never stored: a sealed entry carries only an id of the key that sealed it (the start of the
// key's SHA-256), so reading it with another key is a clear error naming the entry, and a
// tampered entry fails GCM's check instead of being used. Entries that are not sealed (written
// before storage_key was set) are read as they are.
import { createCipheriv, createDecipheriv, createHash, randomBytes } from "node:crypto";
import { StorageError, type LockOptions, type PutOptions, type Storage, type StorageLock } from "./storage.js";

export const STORAGE_KEY_ENV = "PADLOCK_STORAGE_KEY";
/** "padlock-sealed:v1:<key id>:" then base64 of IV (12 bytes) | tag (16 bytes) | ciphertext. */
const MAGIC = "padlock-sealed:v1:";
const AAD = Buffer.from("padlock storage entry");

export class StorageKey {
  /** Names the key without revealing it. */
  readonly id: string;

  private constructor(private readonly key: Buffer) {
    this.id = createHash("sha256").update(key).digest("hex").slice(0, 16);
  }

  /** The config's storage_key, else $PADLOCK_STORAGE_KEY; undefined when neither is set. Throws a StorageError when it is not 32 bytes. */
  static fromConfig(configured: string | undefined, env: NodeJS.ProcessEnv = process.env): StorageKey | undefined {
    const text = configured ?? (env[STORAGE_KEY_ENV] || undefined);
    if (text === undefined) return undefined;
    const problem = storageKeyProblem(text);
    if (problem) throw new StorageError(`${configured !== undefined ? "storage_key" : `$${STORAGE_KEY_ENV}`}: ${problem}`);
    return new StorageKey(decodeKey(text)!);
  }

  seal(plain: Buffer): Buffer {
    const iv = randomBytes(12);
    const cipher = createCipheriv("aes-256-gcm", this.key, iv).setAAD(AAD);
    const body = Buffer.concat([cipher.update(plain), cipher.final()]);
    return Buffer.from(`${MAGIC}${this.id}:${Buffer.concat([iv, cipher.getAuthTag(), body]).toString("base64")}\n`);
  }

  /** The plaintext of a sealed entry; `where` names it in the error when it cannot be opened. */
  open(sealed: Buffer, where: string): Buffer {
    const text = sealed.toString("latin1").trim();
    const match = /^padlock-sealed:v1:([0-9a-f]{16}):([A-Za-z0-9+/=]+)$/.exec(text);
    if (!match) throw new StorageError(`cannot decrypt ${where}: it is damaged (not a sealed entry any more)`);
    if (match[1] !== this.id) {
      throw new StorageError(
        `cannot decrypt ${where}: it was encrypted with another storage key (key id ${match[1]}; storage_key's is ${this.id}). Fix: set storage_key (or $${STORAGE_KEY_ENV}) to the key it was written with`,
      );
    }
    const raw = Buffer.from(match[2]!, "base64");
    try {
      const decipher = createDecipheriv("aes-256-gcm", this.key, raw.subarray(0, 12)).setAAD(AAD);
      decipher.setAuthTag(raw.subarray(12, 28));
      return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]);
    } catch {
      throw new StorageError(`cannot decrypt ${where}: its contents fail the integrity check (changed or truncated since it was written)`);
    }
  }
}

export function isSealed(value: Buffer): boolean {
  return value.subarray(0, MAGIC.length).toString("latin1") === MAGIC;
}

/** What is wrong with a storage_key's text; undefined when it is 32 bytes in base64 or hex. */
export function storageKeyProblem(text: string): string | undefined {
  return decodeKey(text) ? undefined : "must be 32 random bytes, written as base64 (44 characters) or hex (64); make one with: openssl rand -base64 32";
}

function decodeKey(text: string): Buffer | undefined {
  const t = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(t)) return Buffer.from(t, "hex");
  if (/^[A-Za-z0-9+/]{43}=$/.test(t)) return Buffer.from(t, "base64");
  return undefined;
}

/** A storage whose secrets are sealed on the way in and opened on the way out; everything else passes through. */
export class EncryptedStorage implements Storage {
  constructor(
    readonly inner: Storage,
    readonly key: StorageKey,
  ) {}

  get location(): string {
    return `${this.inner.location} (private keys encrypted, key id ${this.key.id})`;
  }

  describe(key: string): string {
    return this.inner.describe(key);
  }

  async get(key: string): Promise<Buffer | undefined> {
    const value = await this.inner.get(key);
    return value && isSealed(value) ? this.key.open(value, this.inner.describe(key)) : value;
  }

  put(key: string, value: string | Buffer, options: PutOptions = {}): Promise<void> {
    return this.inner.put(key, options.secret ? this.key.seal(Buffer.from(value)) : value, options);
  }

  move(from: string, to: string): Promise<void> {
    return this.inner.move(from, to);
  }

  list(prefix: string): Promise<string[]> {
    return this.inner.list(prefix);
  }

  delete(key: string): Promise<void> {
    return this.inner.delete(key);
  }

  lock(name: string, options?: LockOptions): Promise<StorageLock> {
    return this.inner.lock(name, options);
  }

  get watch(): Storage["watch"] {
    return this.inner.watch?.bind(this.inner);
  }

  get close(): Storage["close"] {
    return this.inner.close?.bind(this.inner);
  }
}
