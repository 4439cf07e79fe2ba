// `storage: redis://[user[:password]@]host[:port][/db][?options]` (rediss:// for TLS), read into
// settings, with every mistake named. The password may stay out of the config file:
// $PADLOCK_REDIS_PASSWORD is used when the URL has none. Options:
//   prefix=NAME      every key and channel starts with it (default "padlock:"), so several
//                    padlock clusters can share one Redis
//   ca_file=PATH     PEM of the CA that signed the server's certificate (rediss://), relative to
//                    the config file's folder
//   lock_lease=SECS  how long a lock outlives a holder that stopped renewing it (default 60)
import path from "node:path";
import { DEFAULT_LOCK_TTL_MS, StorageError } from "./storage.js";

export const REDIS_PASSWORD_ENV = "PADLOCK_REDIS_PASSWORD";
export const DEFAULT_REDIS_PREFIX = "padlock:";
const OPTIONS = ["prefix", "ca_file", "lock_lease"];

export interface RedisSettings {
  /** For people: the URL without its password. */
  location: string;
  tls: boolean;
  host: string;
  port: number;
  database: number;
  username?: string;
  password?: string;
  /** Where the password came from, for error messages. */
  passwordFrom?: "url" | "env";
  caFile?: string;
  prefix: string;
  lockLeaseMs: number;
}

export function isRedisUrl(spec: string): boolean {
  return /^rediss?:\/\//i.test(spec);
}

/** Throws a StorageError saying what is wrong with the URL and how it should look. */
export function parseRedisUrl(spec: string, baseDir: string, env: NodeJS.ProcessEnv = process.env): RedisSettings {
  const shape = "expected redis://[user[:password]@]host[:port][/db][?prefix=…&ca_file=…&lock_lease=…], or rediss:// for TLS";
  const bad = (what: string) => new StorageError(`storage: ${redact(spec)}: ${what}; ${shape}`);
  let url: URL;
  try {
    url = new URL(spec);
  } catch {
    throw bad("not a URL");
  }
  const tls = url.protocol === "rediss:";
  if (!url.hostname) throw bad("the host is missing");
  const port = url.port ? Number(url.port) : 6379;
  const dbPart = url.pathname.replace(/^\//, "");
  if (!/^\d*$/.test(dbPart) || Number(dbPart) > 65535) throw bad(`"/${dbPart}" is not a database number`);
  const database = dbPart ? Number(dbPart) : 0;
  for (const key of url.searchParams.keys()) {
    if (!OPTIONS.includes(key)) throw bad(`unknown option "${key}" (known: ${OPTIONS.join(", ")})`);
  }
  const prefix = url.searchParams.get("prefix") ?? DEFAULT_REDIS_PREFIX;
  if (!/^[A-Za-z0-9:_.{}-]{1,64}$/.test(prefix)) throw bad(`prefix "${prefix}" may only hold letters, digits and : _ . - { } (at most 64)`);
  const caFileOption = url.searchParams.get("ca_file");
  if (caFileOption !== null && !tls) throw bad("ca_file is only for TLS: use rediss://");
  if (caFileOption === "") throw bad("ca_file is empty");
  const leaseOption = url.searchParams.get("lock_lease");
  const lease = leaseOption === null ? DEFAULT_LOCK_TTL_MS / 1000 : Number(leaseOption);
  if (!(lease >= 1 && lease <= 3600)) throw bad(`lock_lease "${leaseOption}" is not a number of seconds between 1 and 3600`);
  const username = url.username ? decodeURIComponent(url.username) : undefined;
  const fromUrl = url.password ? decodeURIComponent(url.password) : undefined;
  const fromEnv = env[REDIS_PASSWORD_ENV] || undefined;
  const password = fromUrl ?? fromEnv;
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
  return {
    location: `${tls ? "rediss" : "redis"}://${username ? `${encodeURIComponent(username)}@` : ""}${url.hostname}:${port}/${database}${prefix === DEFAULT_REDIS_PREFIX ? "" : ` (prefix ${prefix})`}`,
    tls,
    host,
    port,
    database,
    username,
    password,
    passwordFrom: fromUrl ? "url" : fromEnv ? "env" : undefined,
    caFile: caFileOption === null ? undefined : path.resolve(baseDir, caFileOption),
    prefix,
    lockLeaseMs: lease * 1000,
  };
}

/** The URL as it may be shown: a password in it replaced by "***". */
export function redact(spec: string): string {
  return spec.replace(/^(rediss?:\/\/[^:/@]*:)[^@]*@/i, "$1***@");
}
