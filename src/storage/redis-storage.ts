// Storage in Redis (or Valkey), shared by padlock instances on one machine or many. An entry is a
// hash (its value, when it was written, whether it is secret) at `<prefix>entry:<key>`, and its
// key is in the sorted set `<prefix>index`, so listing a folder is one ZRANGEBYLEX, never a scan
// of the whole database. Every write is one Lua script (the entry, the index, a change counter
// and a message on the channel `<prefix>changes`), so a reader sees the old value or the new one
// and every instance hears of the change. Locks are `SET NX PX` with a record naming the holder
// and a random token, renewed by compare-and-expire and released by compare-and-delete, each in
// one script. While Redis cannot be reached, every call fails at once with a
// StorageUnavailableError (nothing waits on a queue), and the log says so once, and once more
// when the connection is back.
import { createHash, randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { isIP } from "node:net";
import { createClient, ErrorReply, RESP_TYPES } from "@redis/client";
import type { Logger } from "../log.js";
import { damagedCopyKey } from "./damaged-files.js";
import { asProcessIdentity, describeProcess, isGone, isThisProcess, thisProcess } from "./process-identity.js";
import type { RedisSettings } from "./redis-settings.js";
import { StorageError, StorageUnavailableError, StorageWriteError, type EntryStat, type LockHolder, type LockOptions, type PutOptions, type Storage, type StorageLock } from "./storage.js";

type Client = ReturnType<typeof createClient>;
type Reply = string | number | null | Buffer | Reply[];

interface LockRecord extends LockHolder {
  token: string;
  leaseMs: number;
}

/** How long a command may wait for its answer before Redis counts as unreachable. */
const COMMAND_TIMEOUT_MS = 10_000;
const CONNECT_TIMEOUT_MS = 5_000;
/** How often a follower compares the change counter with the messages it got (a message lost in a reconnection). */
const DEFAULT_CHANGE_CHECK_MS = 5_000;
/** The last holder's record outlives the lock by this much, to tell a lease that ran out from a release. */
const LAST_HOLDER_TTL_MS = 7 * 86_400_000;
const BUFFERS = { [RESP_TYPES.BLOB_STRING]: Buffer };

const SCRIPTS = {
  // KEYS: entry, index, counter. ARGV: key, value, modified, secret, channel.
  put: `redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'v', ARGV[2], 'm', ARGV[3], 's', ARGV[4])
redis.call('ZADD', KEYS[2], 0, ARGV[1])
local seq = redis.call('INCR', KEYS[3])
redis.call('PUBLISH', ARGV[5], seq .. ' ' .. ARGV[1])
return seq`,
  // KEYS: from entry, to entry, index, counter. ARGV: from, to, channel.
  move: `if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('RENAME', KEYS[1], KEYS[2])
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('ZADD', KEYS[3], 0, ARGV[2])
for _, key in ipairs({ARGV[1], ARGV[2]}) do
  local seq = redis.call('INCR', KEYS[4])
  redis.call('PUBLISH', ARGV[3], seq .. ' ' .. key)
end
return 1`,
  // KEYS: entry, index, counter. ARGV: key, channel.
  delete: `if redis.call('DEL', KEYS[1]) == 0 then return 0 end
redis.call('ZREM', KEYS[2], ARGV[1])
local seq = redis.call('INCR', KEYS[3])
redis.call('PUBLISH', ARGV[2], seq .. ' ' .. ARGV[1])
return 1`,
  // KEYS: lock, last holder. ARGV: record, lease, last holder's ttl.
  // {1, last holder's record when it never released} | {0, holder's record, ms left}
  acquire: `if not redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return {0, redis.call('GET', KEYS[1]), redis.call('PTTL', KEYS[1])}
end
local last = redis.call('GET', KEYS[2])
redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[3])
return {1, last}`,
  // {1} renewed | {2} taken back (it had run out and nobody took it) | {0, who took it}
  renew: `local current = redis.call('GET', KEYS[1])
if current == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return {1}
end
if not current then
  local last = redis.call('GET', KEYS[2])
  if last == ARGV[1] then
    redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
    return {2}
  end
  return {0, last}
end
return {0, current}`,
  // Compare-and-delete: only the record it was given (its holder's, or one judged dead).
  release: `local released = 0
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  released = 1
end
if redis.call('GET', KEYS[2]) == ARGV[1] then redis.call('DEL', KEYS[2]) end
return released`,
} as const;

type ScriptName = keyof typeof SCRIPTS;
const SHAS = Object.fromEntries(Object.entries(SCRIPTS).map(([name, body]) => [name, createHash("sha1").update(body).digest("hex")])) as Record<ScriptName, string>;

/** Tokens of the locks this process holds right now. */
const heldHere = new Set<string>();

interface Follower {
  prefix: string;
  onChange: (key: string | undefined) => void;
}

export interface RedisStorageOptions {
  log?: Logger;
  /** How often to look for change messages that never arrived (default 5 s). */
  changeCheckMs?: number;
}

export class RedisStorage implements Storage {
  private up = true;
  private downSince = 0;
  private lastCause = "";
  private subscriber?: Client;
  private subscribing?: Promise<void>;
  private readonly followers = new Set<Follower>();
  /** The highest change number heard of, and the counter as the last check saw it. */
  private lastSeq?: number;
  private counterAtLastCheck?: number;
  private checkTimer?: NodeJS.Timeout;
  private closed = false;

  private constructor(
    readonly settings: RedisSettings,
    private readonly client: Client,
    private readonly options: RedisStorageOptions,
  ) {}

  /**
   * Connects, and checks the connection with one round trip. A Redis that cannot be reached or
   * refuses the credentials stops start-up with what went wrong and what to do.
   */
  static async open(settings: RedisSettings, options: RedisStorageOptions = {}): Promise<RedisStorage> {
    const state = { opened: false };
    const client = createRedisClient(settings, state);
    let lastError: Error | undefined;
    // Listeners go on before connect(): node-redis's client does not hand later ones its socket's events.
    let onError: (err: Error) => void = (err) => void (lastError = err);
    let onReady: () => void = () => undefined;
    client.on("error", (err: Error) => onError(err));
    client.on("ready", () => onReady());
    try {
      await withTimeout(client.connect(), CONNECT_TIMEOUT_MS, () => new Error(`no connection within ${CONNECT_TIMEOUT_MS / 1000} s`));
      await client.sendCommand(["PING"]);
    } catch (err) {
      client.destroy();
      throw new StorageError(connectProblem(settings, lastError ?? (err as Error)));
    }
    state.opened = true;
    const storage = new RedisStorage(settings, client, options);
    onError = (err) => storage.connectionLost(err);
    onReady = () => storage.connectionBack();
    return storage;
  }

  get location(): string {
    return this.settings.location;
  }

  describe(key: string): string {
    return `${this.entryKey(key)} in ${this.location}`;
  }

  async get(key: string): Promise<Buffer | undefined> {
    const value = await this.command<Buffer | null>("read", key, ["HGET", this.entryKey(key), "v"], true);
    return value ?? undefined;
  }

  /** When an entry was written and whether it is secret; undefined when there is none. */
  async stat(key: string): Promise<EntryStat | undefined> {
    const [modified, secret] = await this.command<(string | null)[]>("read", key, ["HMGET", this.entryKey(key), "m", "s"]);
    if (modified === null || modified === undefined) return undefined;
    return { modified: Number(modified), secret: secret === "1" };
  }

  put(key: string, value: string | Buffer, options: PutOptions = {}): Promise<void> {
    return this.write(key, value, { secret: options.secret === true, modified: Date.now() });
  }

  /** put() keeping a given modification time (a copy from another storage). */
  async write(key: string, value: string | Buffer, entry: EntryStat): Promise<void> {
    const k = normalKey(key);
    await this.script("put", "write", k, [this.entryKey(k), this.indexKey, this.counterKey], [k, value, String(Math.round(entry.modified)), entry.secret ? "1" : "0", this.channel]);
  }

  async move(from: string, to: string): Promise<void> {
    const [f, t] = [normalKey(from), normalKey(to)];
    const moved = await this.script("move", "write", t, [this.entryKey(f), this.entryKey(t), this.indexKey, this.counterKey], [f, t, this.channel]);
    if (moved === 0) throw new StorageWriteError(`cannot move ${this.describe(f)} to ${t}: it does not exist`, "ENOENT");
  }

  async list(prefix: string): Promise<string[]> {
    const folder = prefix.split("/").filter((p) => p !== "").join("/");
    const args = folder === "" ? ["-", "+"] : [`[${folder}/`, Buffer.concat([Buffer.from(`(${folder}/`), Buffer.from([0xff])])];
    const keys = await this.command<string[]>("list", prefix, ["ZRANGEBYLEX", this.indexKey, ...args]);
    return keys.sort();
  }

  async delete(key: string): Promise<void> {
    const k = normalKey(key);
    await this.script("delete", "delete", k, [this.entryKey(k), this.indexKey, this.counterKey], [k, this.channel]);
  }

  async lock(name: string, options: LockOptions = {}): Promise<StorageLock> {
    const ttl = options.ttlMs ?? this.settings.lockLeaseMs;
    const poll = options.pollMs ?? Math.min(250, ttl / 4);
    const keys = this.lockKeys(name);
    const where = `${keys[0]} in ${this.location}`;
    const record: LockRecord = { ...thisProcess(), since: new Date().toISOString(), token: randomBytes(16).toString("hex"), leaseMs: ttl };
    const raw = JSON.stringify(record);
    const deadline = options.timeoutMs === undefined ? Infinity : Date.now() + options.timeoutMs;
    const told = new Set<string>();
    for (;;) {
      heldHere.add(record.token);
      let reply: Reply[];
      try {
        reply = (await this.script("acquire", "lock", name, keys, [raw, String(ttl), String(LAST_HOLDER_TTL_MS)])) as Reply[];
      } catch (err) {
        heldHere.delete(record.token);
        throw err;
      }
      if (reply[0] === 1) {
        const previous = typeof reply[1] === "string" ? parseLockRecord(reply[1]) : undefined;
        if (previous && typeof previous !== "string") {
          options.onEvent?.({ type: "taken-over", lock: where, holder: previous, why: `its lease (${previous.leaseMs / 1000} s) ended without being renewed` });
        }
        return new RedisLock(this, name, raw, record.token, ttl, where, options.onEvent);
      }
      heldHere.delete(record.token);
      const current = String(reply[1]);
      const holder = parseLockRecord(current);
      if (typeof holder === "string") {
        const copy = damagedCopyKey(`locks/${name}.lock`, new Date());
        await this.put(copy, current, { secret: true });
        if (await this.releaseRecord(name, current)) options.onEvent?.({ type: "damaged", lock: where, problem: holder, copy: this.describe(copy) });
        continue;
      }
      const why = isThisProcess(holder) && !heldHere.has(holder.token)
        ? "this process left it behind (its release could not be written)"
        : isGone(holder)
          ? `its process (${describeProcess(holder)}) is no longer running`
          : undefined;
      if (why) {
        if (await this.releaseRecord(name, current)) options.onEvent?.({ type: "taken-over", lock: where, holder, why });
        continue;
      }
      if (!told.has(holder.token)) {
        told.add(holder.token);
        options.onEvent?.({ type: "waiting", lock: where, holder, leaseEnds: new Date(Date.now() + Math.max(0, Number(reply[2]))) });
      }
      if (Date.now() > deadline) throw new StorageError(`timed out waiting for the lock ${where}, held by ${describeProcess(holder)} since ${holder.since}`);
      await new Promise((r) => setTimeout(r, poll));
    }
  }

  /** One renewal of a held lock: "renewed", or the record of whoever holds it now ("lost"). */
  async renewLock(name: string, record: string, ttl: number): Promise<{ renewed: true } | { renewed: false; holder?: string }> {
    const reply = (await this.script("renew", "lock", name, this.lockKeys(name), [record, String(ttl), String(LAST_HOLDER_TTL_MS)])) as Reply[];
    return reply[0] === 0 ? { renewed: false, holder: typeof reply[1] === "string" ? reply[1] : undefined } : { renewed: true };
  }

  /** Compare-and-delete: true when the lock held exactly `record`. */
  async releaseRecord(name: string, record: string): Promise<boolean> {
    return (await this.script("release", "lock", name, this.lockKeys(name), [record])) === 1;
  }

  async watch(prefix: string, onChange: (key: string | undefined) => void): Promise<() => void> {
    const follower: Follower = { prefix, onChange };
    this.followers.add(follower);
    this.subscribing ??= this.subscribe();
    try {
      await this.subscribing;
    } catch (err) {
      this.followers.delete(follower);
      this.subscribing = undefined;
      throw err;
    }
    return () => void this.followers.delete(follower);
  }

  /** A round trip's time, for the doctor. */
  async ping(): Promise<number> {
    const started = performance.now();
    await this.command("reach", "", ["PING"]);
    return performance.now() - started;
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.checkTimer);
    this.followers.clear();
    for (const c of [this.subscriber, this.client]) {
      if (!c) continue;
      await withTimeout(c.close(), 2_000, () => new Error("close timed out")).catch(() => c.destroy());
    }
  }

  private async subscribe(): Promise<void> {
    const sub = this.client.duplicate();
    sub.on("error", () => undefined); // the main connection logs the outage
    let reconnected = false;
    sub.on("ready", () => {
      // Messages sent while it was away are lost: everything is looked at again.
      if (reconnected) this.changed(undefined);
      reconnected = true;
    });
    try {
      await withTimeout(sub.connect(), CONNECT_TIMEOUT_MS, () => new Error(`no connection within ${CONNECT_TIMEOUT_MS / 1000} s`));
      await sub.subscribe(this.channel, (message: string) => this.heard(message));
    } catch (err) {
      sub.destroy();
      throw this.failure("follow changes in", "", err);
    }
    this.subscriber = sub;
    this.lastSeq = await this.counter().catch(() => undefined);
    this.checkTimer = setInterval(() => void this.checkMissed(), this.options.changeCheckMs ?? DEFAULT_CHANGE_CHECK_MS);
    this.checkTimer.unref();
  }

  private heard(message: string): void {
    const space = message.indexOf(" ");
    const seq = Number(message.slice(0, space));
    const key = message.slice(space + 1);
    const missed = this.lastSeq !== undefined && seq > this.lastSeq + 1;
    this.lastSeq = Math.max(this.lastSeq ?? 0, seq);
    this.changed(missed ? undefined : key);
  }

  /** A message that never arrived shows as a counter the messages did not reach by the next check. */
  private async checkMissed(): Promise<void> {
    const counter = await this.counter().catch(() => undefined);
    if (counter === undefined) return;
    const before = this.counterAtLastCheck;
    this.counterAtLastCheck = counter;
    if (before !== undefined && (this.lastSeq ?? 0) < before) {
      this.lastSeq = Math.max(this.lastSeq ?? 0, before);
      this.changed(undefined);
    }
  }

  private async counter(): Promise<number> {
    return Number((await this.command<string | null>("read", "", ["GET", this.counterKey])) ?? 0);
  }

  private changed(key: string | undefined): void {
    if (this.closed) return;
    for (const f of this.followers) {
      if (key !== undefined && !key.startsWith(f.prefix)) continue;
      try {
        f.onChange(key);
      } catch (err) {
        this.options.log?.error(`handling a change in ${this.location} failed: ${(err as Error).message}`);
      }
    }
  }

  private connectionLost(err: Error): void {
    this.lastCause = errorText(err);
    if (!this.up || this.closed) return;
    this.up = false;
    this.downSince = Date.now();
    this.options.log?.warn(`lost the connection to Redis at ${this.location} (${this.lastCause}): certificates are served from memory; renewals and writes to storage wait until it is back`);
  }

  private connectionBack(): void {
    if (this.up || this.closed) return;
    this.up = true;
    this.options.log?.info(`the connection to Redis at ${this.location} is back after ${((Date.now() - this.downSince) / 1000).toFixed(1)} s`);
  }

  private async script(name: ScriptName, what: string, key: string, keys: string[], args: (string | Buffer)[]): Promise<Reply> {
    const tail = [String(keys.length), ...keys, ...args];
    try {
      return await this.command<Reply>(what, key, ["EVALSHA", SHAS[name], ...tail]);
    } catch (err) {
      if (!(err instanceof StorageError && /NOSCRIPT/.test(err.message))) throw err;
      return this.command<Reply>(what, key, ["EVAL", SCRIPTS[name], ...tail]);
    }
  }

  /** Runs one command; what went wrong becomes a StorageError naming the entry, the cause and the fix. */
  private async command<T>(what: string, key: string, args: (string | Buffer)[], buffers = false): Promise<T> {
    try {
      return await withTimeout(
        this.client.sendCommand(args, buffers ? { typeMapping: BUFFERS } : undefined) as Promise<T>,
        COMMAND_TIMEOUT_MS,
        () => new Error(`no answer within ${COMMAND_TIMEOUT_MS / 1000} s`),
      );
    } catch (err) {
      throw this.failure(what, key, err);
    }
  }

  private failure(what: string, key: string, err: unknown): StorageError {
    const subject = key ? ` ${this.describe(key)}` : ` ${this.location}`;
    if (err instanceof ErrorReply) {
      const reply = err.message;
      if (/^NOPERM/.test(reply)) {
        return new StorageWriteError(`cannot ${what}${subject}: the Redis user ${this.settings.username ?? "default"} is not allowed to (${reply}). Fix: ${aclFix(this.settings)}`, "NOPERM");
      }
      return new StorageWriteError(`cannot ${what}${subject}: Redis answered ${reply}`, reply.split(" ")[0]);
    }
    const cause = errorText(err as Error);
    return new StorageUnavailableError(
      `cannot ${what}${subject}: Redis is unreachable (${this.up ? cause : this.lastCause || cause}). Fix: start Redis at ${this.settings.host}:${this.settings.port} or restore the network to it; padlock tries again by itself`,
      (err as NodeJS.ErrnoException).code ?? "EUNREACHABLE",
    );
  }

  private entryKey(key: string): string {
    return `${this.settings.prefix}entry:${normalKey(key)}`;
  }

  private lockKeys(name: string): [string, string] {
    return [`${this.settings.prefix}lock:${name}`, `${this.settings.prefix}lock-last:${name}`];
  }

  private get indexKey(): string {
    return `${this.settings.prefix}index`;
  }

  private get counterKey(): string {
    return `${this.settings.prefix}changes`;
  }

  private get channel(): string {
    return `${this.settings.prefix}changes`;
  }
}

class RedisLock implements StorageLock {
  private readonly renewer: NodeJS.Timeout;
  private released = false;
  private lost = false;

  constructor(
    private readonly storage: RedisStorage,
    private readonly name: string,
    private readonly record: string,
    private readonly token: string,
    ttl: number,
    where: string,
    onEvent: LockOptions["onEvent"],
  ) {
    this.renewer = setInterval(() => {
      // Unreachable: tried again at the next tick; the lease may run out meanwhile.
      this.storage.renewLock(this.name, this.record, ttl).then((r) => {
        if (r.renewed || this.lost || this.released) return;
        this.lost = true;
        clearInterval(this.renewer);
        const holder = r.holder === undefined ? undefined : parseLockRecord(r.holder);
        onEvent?.({ type: "lost", lock: where, holder: typeof holder === "object" ? holder : undefined });
      }, () => undefined);
    }, ttl / 3);
    this.renewer.unref();
  }

  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    clearInterval(this.renewer);
    heldHere.delete(this.token);
    await this.storage.releaseRecord(this.name, this.record);
  }
}

function parseLockRecord(raw: string): LockRecord | string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch (err) {
    return `not a lock record (${(err as Error).message})`;
  }
  const who = asProcessIdentity(parsed);
  const rest = parsed as Partial<LockRecord>;
  if (!who || typeof rest.token !== "string" || typeof rest.since !== "string") return "not a lock record (host, pid, started, since or token missing)";
  return { ...who, since: rest.since, token: rest.token, leaseMs: typeof rest.leaseMs === "number" ? rest.leaseMs : 0 };
}

/** The same key the folder storage would use: empty parts dropped, "." and ".." refused. */
function normalKey(key: string): string {
  const parts = key.split("/").filter((p) => p !== "");
  if (parts.length === 0 || parts.some((p) => p === "." || p === "..")) throw new Error(`invalid storage key "${key}"`);
  return parts.join("/");
}

/** `state.opened`: until the first connection succeeded, a failure is final (start-up reports it at once). */
function createRedisClient(settings: RedisSettings, state: { opened: boolean }): Client {
  const tls = settings.tls ? { tls: true as const, ...(isIP(settings.host) ? {} : { servername: settings.host }), ...(settings.caFile ? { ca: readCaFile(settings.caFile) } : {}) } : {};
  return createClient({
    socket: {
      host: settings.host,
      port: settings.port,
      connectTimeout: CONNECT_TIMEOUT_MS,
      // Quickly at first, then every 2 s: the outage ends when Redis is back, not at the next long wait.
      reconnectStrategy: (retries: number) => (state.opened ? Math.min(50 * 2 ** retries, 2_000) : false),
      ...tls,
    },
    username: settings.username,
    password: settings.password,
    database: settings.database,
    name: "padlock",
    // Nothing waits in a queue while Redis is away: callers are told at once and retry themselves.
    disableOfflineQueue: true,
  });
}

function readCaFile(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (err) {
    throw new StorageError(`storage: ca_file ${file} cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); point ca_file= at the PEM file of the CA that signed Redis's certificate`);
  }
}

function connectProblem(s: RedisSettings, err: Error): string {
  const cause = errorText(err);
  const where = `Redis at ${s.location}`;
  if (/WRONGPASS|NOAUTH|invalid username-password|without any password configured/i.test(cause)) {
    const from = s.passwordFrom === "env" ? "$PADLOCK_REDIS_PASSWORD" : s.passwordFrom === "url" ? "the password in storage:" : "no password was given";
    return `${where} refused the credentials (${cause}). Fix: check the user${s.username ? ` ${s.username}` : ""} and its password (${from}; set it in the URL as redis://user:password@… or in $PADLOCK_REDIS_PASSWORD)`;
  }
  if (/NOPERM/.test(cause)) return `${where}: the user ${s.username ?? "default"} is not allowed to connect or select database ${s.database} (${cause}). Fix: ${aclFix(s)}`;
  if (/certificate|self.signed|SSL|TLS|wrong version number/i.test(cause)) {
    return `${where}: the TLS connection failed (${cause}). Fix: ${s.caFile ? `check that ${s.caFile} holds the CA that signed Redis's certificate, and that the certificate names ${s.host}` : "add ?ca_file=/path/to/ca.pem (the CA that signed Redis's certificate) to the storage URL"}`;
  }
  return `cannot reach ${where} (${cause}). Fix: start Redis there, or correct the host and port in storage:`;
}

/** The ACL rule padlock needs, for a fix. */
export function aclFix(s: Pick<RedisSettings, "username" | "prefix">): string {
  return `ACL SETUSER ${s.username ?? "default"} ~${s.prefix}* &${s.prefix}* +@read +@write +@scripting +@pubsub +ping +select +client|setname +info`;
}

function errorText(err: Error): string {
  const code = (err as NodeJS.ErrnoException).code;
  return code && !err.message.includes(code) ? `${code}: ${err.message}` : err.message;
}

function withTimeout<T>(work: Promise<T>, ms: number, error: () => Error): Promise<T> {
  let timer: NodeJS.Timeout;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(error()), ms)));
  work.catch(() => undefined);
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
