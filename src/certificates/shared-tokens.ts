// Challenges kept in storage while the CA validates, so that another instance sharing it can
// answer the CA (which may reach any of them): HTTP-01 key authorizations by token, TLS-ALPN-01
// ones by name (each instance makes the challenge certificate from it), and a note of each DNS-01
// TXT record that is up, so that an instance taking over the order of one that stopped half-way
// (killed, its lock's lease run out) removes the record it left. Each record says which process
// published it, so the files a killed process left behind are recognised and removed at the next
// start. With storage that instances follow (Redis), publishing waits until the change message
// about the record came back: then the others heard it too (shared-challenges.ts follows them).
import type { Logger } from "../log.js";
import { setAsideDamaged } from "../storage/damaged-files.js";
import type { RecordNotes } from "../acme/dns01-solver.js";
import type { KeyAuthorizations } from "../acme/tls-alpn01-solver.js";
import { asProcessIdentity, describeProcess, isGone, isThisProcess, thisProcess, type ProcessIdentity } from "../storage/process-identity.js";
import type { Storage } from "../storage/storage.js";
import type { Clock } from "../time/clock.js";
import { CHALLENGE_TOKENS, dns01RecordFile, TLS_ALPN_CHALLENGES, tlsAlpnChallengeFile, tokenFile } from "./store-layout.js";

const TOKEN = /^[A-Za-z0-9_-]+$/;
/** A token another host published is surely abandoned after this long (the CA validates in minutes). */
const STALE_ELSEWHERE_MS = 24 * 3600_000;
/** How long publishing waits for the change message about its own write. */
const ECHO_WAIT_MS = 2_000;

interface TokenFile {
  keyAuthorization: string;
  publishedBy: ProcessIdentity;
  at: string;
}

interface RecordNote {
  fqdn: string;
  value: string;
  publishedBy: ProcessIdentity;
  at: string;
}

export class SharedTokens {
  /** TLS-ALPN-01 key authorizations, by name. */
  readonly tlsAlpn: KeyAuthorizations;
  /** DNS-01 records that are up, by name. */
  readonly dns01: RecordNotes;

  constructor(
    private readonly storage: Storage,
    private readonly clock: Clock,
  ) {
    this.tlsAlpn = {
      publish: (name, keyAuthorization) => this.share(tlsAlpnChallengeFile(name), keyAuthorization),
      withdraw: (name) => storage.delete(tlsAlpnChallengeFile(name)),
    };
    this.dns01 = {
      note: (name, record) => storage.put(dns01RecordFile(name), JSON.stringify({ ...record, publishedBy: thisProcess(), at: this.nowIso() } satisfies RecordNote)),
      remove: (name) => storage.delete(dns01RecordFile(name)),
      leftBy: async (name) => {
        const note = parseRecordNote(await storage.get(dns01RecordFile(name)));
        return note && !isThisProcess(note.publishedBy) ? { fqdn: note.fqdn, value: note.value, by: describeProcess(note.publishedBy), at: note.at } : undefined;
      },
    };
  }

  publish(token: string, keyAuthorization: string): Promise<void> {
    return this.share(tokenFile(token), keyAuthorization);
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
    for (const key of [...(await storage.list(CHALLENGE_TOKENS)), ...(await storage.list(TLS_ALPN_CHALLENGES))]) {
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

  /**
   * The key authorization another process published less than `maxAgeMs` ago in a challenge
   * record (`key` as heard from the storage's change messages); undefined for this process's own,
   * an older one or none.
   */
  async othersKeyAuthorization(key: string, maxAgeMs: number): Promise<string | undefined> {
    const raw = await this.storage.get(key);
    const record = raw && parseTokenFile(raw);
    if (!record || typeof record === "string" || isThisProcess(record.publishedBy) || this.clock.now() - Date.parse(record.at) > maxAgeMs) return undefined;
    return record.keyAuthorization;
  }

  /** Writes a challenge's record; with storage that instances follow, waits until the change message about it came back. */
  private async share(key: string, keyAuthorization: string): Promise<void> {
    const record: TokenFile = { keyAuthorization, publishedBy: thisProcess(), at: this.nowIso() };
    let heard!: () => void;
    const echoed = new Promise<void>((resolve) => (heard = resolve));
    const stop = await this.storage.watch?.(key, (changed) => changed === key && heard());
    try {
      await this.storage.put(key, JSON.stringify(record), { durable: false });
      if (!stop) return;
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([echoed, new Promise((r) => (timer = setTimeout(r, ECHO_WAIT_MS)))]);
      clearTimeout(timer);
    } finally {
      stop?.();
    }
  }

  private nowIso(): string {
    return new Date(this.clock.now()).toISOString();
  }
}

function parseRecordNote(raw: Buffer | undefined): RecordNote | undefined {
  if (!raw) return undefined;
  try {
    const v = JSON.parse(raw.toString("utf8")) as Partial<RecordNote>;
    const publishedBy = asProcessIdentity(v.publishedBy);
    if (typeof v.fqdn === "string" && typeof v.value === "string" && publishedBy && typeof v.at === "string") return { fqdn: v.fqdn, value: v.value, publishedBy, at: v.at };
  } catch {
    // not a note: replaced by the next one
  }
  return undefined;
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
