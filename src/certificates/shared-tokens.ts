// HTTP-01 tokens kept in storage, so that another instance sharing it can answer the CA (which
// may reach any of them). Each record says which process published it, so the files a killed
// process left behind are recognised and removed at the next start.
import type { Logger } from "../log.js";
import { setAsideDamaged } from "../storage/damaged-files.js";
import { asProcessIdentity, describeProcess, isGone, thisProcess, type ProcessIdentity } from "../storage/process-identity.js";
import type { Storage } from "../storage/storage.js";
import type { Clock } from "../time/clock.js";
import { CHALLENGE_TOKENS, tokenFile } from "./store-layout.js";

const TOKEN = /^[A-Za-z0-9_-]+$/;
/** A token another host published is surely abandoned after this long (the CA validates in minutes). */
const STALE_ELSEWHERE_MS = 24 * 3600_000;

interface TokenFile {
  keyAuthorization: string;
  publishedBy: ProcessIdentity;
  at: string;
}

export class SharedTokens {
  constructor(
    private readonly storage: Storage,
    private readonly clock: Clock,
  ) {}

  publish(token: string, keyAuthorization: string): Promise<void> {
    const record: TokenFile = { keyAuthorization, publishedBy: thisProcess(), at: new Date(this.clock.now()).toISOString() };
    return this.storage.put(tokenFile(token), JSON.stringify(record));
  }

  withdraw(token: string): Promise<void> {
    return this.storage.delete(tokenFile(token));
  }

  /** A token another instance published, for the CA's request that reached this one. */
  async lookup(token: string): Promise<string | undefined> {
    return TOKEN.test(token) ? keyAuthorizationIn(await this.storage.get(tokenFile(token))) : undefined;
  }

  /**
   * Removes the token files of processes that are gone (killed before they could withdraw them):
   * one log line per process. A file that is not a token record is set aside as damaged.
   */
  async removeLeftovers(log: Logger): Promise<void> {
    const now = this.clock.now();
    const storage = this.storage;
    const byProcess = new Map<string, string[]>();
    for (const key of await storage.list(CHALLENGE_TOKENS)) {
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

function keyAuthorizationIn(raw: Buffer | undefined): string | undefined {
  if (!raw) return undefined;
  const record = parseTokenFile(raw);
  if (typeof record !== "string") return record.keyAuthorization;
  // Published by an older padlock sharing the storage.
  const bare = raw.toString("utf8");
  return BARE_KEY_AUTHORIZATION.test(bare) ? bare : undefined;
}
