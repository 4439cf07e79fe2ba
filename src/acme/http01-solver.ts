// HTTP-01 (RFC 8555 §8.3): the key authorization is served by padlock's own HTTP listener from
// memory, and also written to storage so another instance sharing it can answer the CA. The
// stored copy records which process published it, so the files a killed process left behind
// are recognised and removed at the next start.
import type { Logger } from "../log.js";
import { setAsideDamaged } from "../storage/damaged-files.js";
import { asProcessIdentity, describeProcess, isGone, isThisProcess, thisProcess, type ProcessIdentity } from "../storage/process-identity.js";
import type { Storage } from "../storage/storage.js";
import type { Http01Challenges } from "./http01-challenges.js";
import type { ChallengeSolver } from "./issuer.js";
import { shareChallenge } from "./shared-challenges.js";

const TOKEN = /^[A-Za-z0-9_-]+$/;
export const HTTP01_FOLDER = "challenges/http-01/";
/** TLS-ALPN-01 key authorizations, shared by name in the same records (see shared-challenges.ts). */
export const TLS_ALPN01_FOLDER = "challenges/tls-alpn-01/";
/** A token another host published is surely abandoned after this long (the CA validates in minutes). */
const STALE_ELSEWHERE_MS = 24 * 3600_000;

interface TokenFile {
  keyAuthorization: string;
  publishedBy: ProcessIdentity;
  at: string;
}

export class Http01Solver implements ChallengeSolver {
  readonly type = "http-01" as const;

  constructor(
    private readonly challenges: Http01Challenges,
    private readonly storage?: Storage,
    /** Told when the shared copy cannot be written or removed (this instance still answers). */
    private readonly onStorageError: (err: unknown) => void = () => undefined,
  ) {
    if (storage) challenges.setFallback(async (token) => (TOKEN.test(token) ? keyAuthorizationIn(await storage.get(storageKey(token))) : undefined));
  }

  async withProof<T>(_identifier: string, token: string, keyAuthorization: string, validate: () => Promise<T>): Promise<T> {
    this.challenges.publish(token, keyAuthorization);
    // The copy in storage only helps other instances: an unwritable storage must not fail the
    // challenge (the CA reaches this instance when it is the only one).
    const shared = await (this.storage ? shareChallenge(this.storage, storageKey(token), challengeRecord(keyAuthorization)) : undefined)?.then(
      () => true,
      (err: unknown) => (this.onStorageError(err), false),
    );
    try {
      return await validate();
    } finally {
      this.challenges.withdraw(token);
      if (shared) await this.storage?.delete(storageKey(token)).catch(this.onStorageError);
    }
  }
}

/**
 * Removes the token files of processes that are gone (killed before they could withdraw them):
 * one log line per process. A file that is not a token record is set aside as damaged.
 */
export async function removeLeftoverTokens(storage: Storage, log: Logger, now = Date.now()): Promise<void> {
  const byProcess = new Map<string, string[]>();
  for (const key of [...(await storage.list(HTTP01_FOLDER)), ...(await storage.list(TLS_ALPN01_FOLDER))]) {
    const raw = await storage.get(key);
    if (!raw) continue;
    const record = parseTokenFile(raw);
    // An older padlock's token names no process: left for it to withdraw.
    if (typeof record === "string" && BARE_KEY_AUTHORIZATION.test(raw.toString("utf8"))) continue;
    if (typeof record === "string") {
      await setAsideDamaged(storage, log, key, record, "it is not served to the CA");
      continue;
    }
    const gone = isGone(record.publishedBy) || (record.publishedBy.host !== thisProcess().host && now - Date.parse(record.at) > STALE_ELSEWHERE_MS);
    if (!gone) continue;
    await storage.delete(key);
    const who = describeProcess(record.publishedBy);
    byProcess.set(who, [...(byProcess.get(who) ?? []), storage.describe(key)]);
  }
  for (const [who, files] of byProcess) {
    log.info(`removed ${files.length} challenge file(s) left by ${who}, which is no longer running: ${files.join(", ")}`);
  }
}

/** What earlier versions of padlock wrote: the key authorization alone (token "." thumbprint). */
const BARE_KEY_AUTHORIZATION = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

function parseTokenFile(raw: Buffer): TokenFile | string {
  try {
    const v = JSON.parse(raw.toString("utf8")) as Partial<TokenFile>;
    const publishedBy = asProcessIdentity(v.publishedBy);
    if (typeof v.keyAuthorization !== "string" || !publishedBy || typeof v.at !== "string") return "not a challenge token record (keyAuthorization, publishedBy or at missing)";
    return { keyAuthorization: v.keyAuthorization, publishedBy, at: v.at };
  } catch (err) {
    return `not JSON (${(err as Error).message})`;
  }
}

/** What a solver writes while the CA validates: the key authorization and who published it. */
export function challengeRecord(keyAuthorization: string): string {
  return JSON.stringify({ keyAuthorization, publishedBy: thisProcess(), at: new Date().toISOString() } satisfies TokenFile);
}

/** The key authorization another process published less than `maxAgeMs` ago; undefined for this process's own, an older one or no record. */
export function othersKeyAuthorization(raw: Buffer | undefined, maxAgeMs: number, now = Date.now()): string | undefined {
  const record = raw && parseTokenFile(raw);
  if (!record || typeof record === "string" || isThisProcess(record.publishedBy) || now - Date.parse(record.at) > maxAgeMs) return undefined;
  return record.keyAuthorization;
}

function keyAuthorizationIn(raw: Buffer | undefined): string | undefined {
  if (!raw) return undefined;
  const record = parseTokenFile(raw);
  if (typeof record !== "string") return record.keyAuthorization;
  // Published by an older padlock sharing the storage.
  const bare = raw.toString("utf8");
  return BARE_KEY_AUTHORIZATION.test(bare) ? bare : undefined;
}

function storageKey(token: string): string {
  return `${HTTP01_FOLDER}${token}`;
}
