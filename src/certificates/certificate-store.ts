// What padlock keeps in storage about certificates, and the one way in: every read checked, a
// damaged file set aside (never deleted) with one ERROR line, writes of keys 0600 and atomic, the
// locks named so every instance sharing the storage agrees on them, and each wait for a lock
// said in the log. The layout is written down in store-layout.ts; the certificate manager, the
// ACME account and order budget (through the interfaces acme defines), `padlock certs`, the
// doctor and the imports all go through here.
import type { Logger } from "../log.js";
import { damagedFileMessage, setAsideDamaged } from "../storage/damaged-files.js";
import { describeProcess } from "../storage/process-identity.js";
import type { LockEvent, Storage, StorageLock } from "../storage/storage.js";
import { systemClock, type Clock } from "../time/clock.js";
import { keyProblem } from "../tls/pem.js";
import type { AccountStore } from "../acme/account.js";
import type { LedgerStore } from "../acme/order-budget.js";
import { SharedTokens } from "./shared-tokens.js";
import { accountFiles, accountFolder, caFolder, caId, ledgerFile, LOCKS, SET_FILES, setFolder, setKey } from "./store-layout.js";
import { adoptFolder, finishSwitch, foldersByNameSet, parsePendingOrder, readSet, replacedStamp, storedCertificate, switchIn, type CertificateMeta, type PendingOrder, type SetContents, type SetDescription, type StoredCertificate } from "./stored-set.js";

interface StoredAccountInfo {
  url: string;
  contact: string[];
}

export class CertificateStore {
  /** HTTP-01 tokens other instances sharing the storage can answer. */
  readonly tokens: SharedTokens;

  constructor(
    readonly storage: Storage,
    private readonly log: Logger,
    private readonly clock: Clock = systemClock,
  ) {
    this.tokens = new SharedTokens(storage, clock);
  }

  get location(): string {
    return this.storage.location;
  }

  /** Where a key is, for people. */
  describe(key: string): string {
    return this.storage.describe(key);
  }

  /** The folder of a name set's files, for a CA (its directory URL). */
  setFolder(directoryUrl: string, names: string[]): string {
    return setFolder(caId(directoryUrl), names);
  }

  // --- a name set's files

  readSet(folder: string): Promise<SetContents> {
    return readSet(this.storage, folder);
  }

  /** Stores a new pair (the journal in stored-set.ts: a crash leaves the old pair or the new). */
  switchIn(folder: string, cert: StoredCertificate): Promise<void> {
    return switchIn(this.storage, folder, cert);
  }

  /**
   * Under the set's lock, brings its folder in order: adopts folders of the same names in another
   * order, finishes a switch a stop interrupted, sets damaged files aside (`damagedAction` says
   * what padlock does instead), writes a missing or damaged meta.json again. Says what is left:
   * nothing, damaged files (now aside), or a sound certificate.
   */
  async tidySet(directoryUrl: string, folder: string, set: SetDescription, damagedAction: string): Promise<{ kind: "none" | "damaged" } | { kind: "ok"; cert: StoredCertificate }> {
    const what = set.names.join(", ");
    for (const other of (await this.foldersByNameSet(directoryUrl)).get(setKey(set.names)) ?? []) {
      if (other === folder) continue;
      const done = await this.adoptFolder(other, folder);
      this.log.info(`${what}: adopted ${this.describe(other)} (the same names in another order) into ${this.describe(folder)}: ${done}`);
    }
    let contents = await this.readSet(folder);
    if (contents.kind === "switching") {
      const done = await finishSwitch(this.storage, folder);
      if ("serial" in done) this.log.info(`${what}: finished storing certificate ${done.serial}, which a stop had interrupted`);
      else await this.setAside(`${folder}/${SET_FILES.newCert}`, done.problem, "ordering a new certificate if one is needed");
      contents = await this.readSet(folder);
    }
    if (contents.kind === "damaged") {
      for (const f of contents.files) await this.setAside(`${folder}/${f.file}`, f.problem, damagedAction);
      return { kind: "damaged" };
    }
    if (contents.kind !== "ok") return { kind: "none" };
    if (contents.metaProblem) await this.setAside(`${folder}/${SET_FILES.meta}`, contents.metaProblem, "writing it again from the certificate");
    const cert = storedCertificate(contents, set, directoryUrl);
    if (!contents.meta) await this.writeMeta(folder, cert.meta).catch((err: unknown) => this.log.warn(`${what}: could not write ${SET_FILES.meta} again: ${(err as Error).message}`));
    return { kind: "ok", cert };
  }

  /** Every set folder of a CA, by the name set its certificate is for. */
  foldersByNameSet(directoryUrl: string): Promise<Map<string, string[]>> {
    return foldersByNameSet(this.storage, caFolder(caId(directoryUrl)));
  }

  /** Where a CA's certificates are, for people. */
  certificatesOf(directoryUrl: string): string {
    return this.describe(caFolder(caId(directoryUrl)));
  }

  /** Moves the files of `from` (the same names in another order) into `into`; says what it did. */
  private adoptFolder(from: string, into: string): Promise<string> {
    return adoptFolder(this.storage, from, into, new Date(this.clock.now()));
  }

  /** Moves the set's certificate, key and meta.json aside as `<file>.replaced-<time>`; resolves to the time stamp. */
  async keepAsReplaced(folder: string): Promise<string> {
    const stamp = replacedStamp(new Date(this.clock.now()));
    for (const file of [SET_FILES.cert, SET_FILES.key, SET_FILES.meta]) {
      const key = `${folder}/${file}`;
      if (await this.storage.get(key)) await this.storage.move(key, `${key}.replaced-${stamp}`);
    }
    return stamp;
  }

  writeMeta(folder: string, meta: CertificateMeta): Promise<void> {
    return this.storage.put(`${folder}/${SET_FILES.meta}`, JSON.stringify(meta, null, 2) + "\n");
  }

  async hasPendingOrder(folder: string): Promise<boolean> {
    return (await this.storage.get(`${folder}/${SET_FILES.order}`)) !== undefined;
  }

  /**
   * The order a stopped process left in the set's folder, with the CSR's key when it was
   * finalized; a record or key that does not parse is set aside. A record of the order whose
   * certificate is stored already (`storedOrderUrl`: a stop came between storing the pair and
   * removing the record) is removed.
   */
  async pendingOrder(folder: string, storedOrderUrl?: string): Promise<{ order: PendingOrder; keyPem?: string } | undefined> {
    const key = `${folder}/${SET_FILES.order}`;
    const raw = await this.storage.get(key);
    if (!raw) return undefined;
    const order = parsePendingOrder(raw);
    if (typeof order === "string") {
      await this.setAside(key, order, "the order it describes is not resumed; a new one is placed if needed");
      return undefined;
    }
    if (order.orderUrl && order.orderUrl === storedOrderUrl) {
      await this.storage.delete(key);
      return undefined;
    }
    const keyPem = (await this.storage.get(`${folder}/${SET_FILES.orderKey}`))?.toString("utf8");
    const problem = keyPem === undefined ? undefined : keyProblem(keyPem);
    if (problem) await this.setAside(`${folder}/${SET_FILES.orderKey}`, problem, "the order is resumed with a new key if the CA has not issued its certificate yet");
    return { order, keyPem: problem ? undefined : keyPem };
  }

  /** The record of the order in flight (pending-order.json), and before finalizing its CSR's key. */
  writePendingOrder(folder: string, order: PendingOrder): Promise<void> {
    return this.storage.put(`${folder}/${SET_FILES.order}`, JSON.stringify(order, null, 2) + "\n");
  }

  writePendingKey(folder: string, keyPem: string): Promise<void> {
    return this.storage.put(`${folder}/${SET_FILES.orderKey}`, keyPem, { secret: true });
  }

  async removePendingOrder(folder: string): Promise<void> {
    for (const f of [SET_FILES.order, SET_FILES.orderKey]) await this.storage.delete(`${folder}/${f}`).catch(() => undefined);
  }

  /** Where the set's order record is, for people. */
  pendingOrderFile(folder: string): string {
    return this.describe(`${folder}/${SET_FILES.order}`);
  }

  /** Moves a damaged file aside and logs the one ERROR line. */
  async setAside(key: string, problem: string, action: string): Promise<void> {
    await setAsideDamaged(this.storage, this.log, key, problem, action, new Date(this.clock.now()));
  }

  /** The lock held while a set's files are ordered, stored or changed. */
  lockSet(directoryUrl: string, folder: string, what: string, timeoutMs?: number): Promise<StorageLock> {
    return this.lock(LOCKS.set(caId(directoryUrl), folder), what, timeoutMs);
  }

  /**
   * With storage instances share and follow (Redis): calls `onChange(folder)` soon after any
   * instance changes a file in a set's folder under this CA, and `onChange(undefined)` when changes
   * may have been missed (the connection was lost), so every set is to be looked at again.
   * status.json is not followed: it is bookkeeping, not the certificate, and every instance
   * rewrites it for each set it plans (at every start), so each would hear its own writes and
   * read every set again for nothing.
   * Resolves to a function that stops watching; undefined for storage that cannot be followed.
   */
  async watchSets(directoryUrl: string, onChange: (folder: string | undefined) => void): Promise<(() => void) | undefined> {
    if (!this.storage.watch) return undefined;
    const prefix = `${caFolder(caId(directoryUrl))}/`;
    return this.storage.watch(prefix, (key) => {
      if (key === undefined) return onChange(undefined);
      if (key.endsWith(`/${SET_FILES.status}`)) return;
      const folder = key.slice(0, key.lastIndexOf("/"));
      if (folder.length > prefix.length && !folder.slice(prefix.length).includes("/")) onChange(folder);
    });
  }

  // --- a CA's account and order ledger, for acme

  account(directoryUrl: string): AccountStore & { lock(): Promise<StorageLock> } {
    const files = accountFiles(caId(directoryUrl));
    return {
      read: async () => {
        let keyPem = (await this.storage.get(files.key))?.toString("utf8");
        const damaged = keyPem === undefined ? undefined : keyProblem(keyPem);
        if (damaged) {
          await this.setAside(files.key, damaged, "creating a new ACME account with a new key (the account registered with the damaged key cannot be used without it)");
          keyPem = undefined;
        }
        // A new key means a new account: what account.json says belongs to the old key.
        const info = damaged ? undefined : await this.readAccountInfo(files.info);
        return { keyPem, url: info?.url };
      },
      writeKey: (keyPem) => this.storage.put(files.key, keyPem, { secret: true }),
      writeInfo: (info) => this.storage.put(files.info, JSON.stringify({ url: info.url, contact: info.contact } satisfies StoredAccountInfo, null, 2) + "\n"),
      lock: () => this.lock(LOCKS.account(caId(directoryUrl)), `the ACME account at ${directoryUrl}`),
    };
  }

  /**
   * Stores an account registered elsewhere (by certbot, say) so that it is used as one padlock
   * registered itself, under the account's lock. The key goes first: a stop in between leaves a
   * key without account.json, for which padlock asks the CA and gets the same account back.
   */
  async importAccount(directoryUrl: string, account: { keyPem: string; url: string; contact: string[] }): Promise<void> {
    const store = this.account(directoryUrl);
    const lock = await store.lock();
    try {
      await store.writeKey(account.keyPem);
      await store.writeInfo({ url: account.url, contact: account.contact });
    } finally {
      await lock.release();
    }
  }

  /** The key of the account padlock has for a CA, if it has one. */
  async accountKey(directoryUrl: string): Promise<{ keyPem: string; file: string } | undefined> {
    const file = accountFiles(caId(directoryUrl)).key;
    const keyPem = (await this.storage.get(file))?.toString("utf8");
    return keyPem === undefined ? undefined : { keyPem, file: this.describe(file) };
  }

  accountFolder(directoryUrl: string): string {
    return this.describe(accountFolder(caId(directoryUrl)));
  }

  ledger(directoryUrl: string): LedgerStore {
    const ca = caId(directoryUrl);
    const key = ledgerFile(ca);
    return {
      location: this.describe(key),
      update: async (change) => {
        const lock = await this.lock(LOCKS.ledger(ca), "the order budget");
        try {
          const stored = (await this.storage.get(key))?.toString("utf8");
          await this.storage.put(key, await change(stored));
        } finally {
          await lock.release().catch(() => undefined);
        }
      },
      setAside: (problem, action) => this.setAside(key, problem, action),
    };
  }

  private async readAccountInfo(key: string): Promise<StoredAccountInfo | undefined> {
    const raw = await this.storage.get(key);
    if (!raw) return undefined;
    let problem: string;
    try {
      const v = JSON.parse(raw.toString("utf8")) as Partial<StoredAccountInfo> | null;
      if (typeof v === "object" && v !== null && typeof v.url === "string") return v as StoredAccountInfo;
      problem = "not an account record (url missing)";
    } catch (err) {
      problem = `not JSON (${(err as Error).message})`;
    }
    await this.setAside(key, problem, "registering again with the stored account key (the CA answers with the same account)");
    return undefined;
  }

  /** Takes a lock, saying in the log what it waits for, whom it took over from, or what was damaged. */
  private lock(name: string, what: string, timeoutMs?: number): Promise<StorageLock> {
    return this.storage.lock(name, { timeoutMs, onEvent: (e) => this.lockEvent(what, e) });
  }

  private lockEvent(what: string, e: LockEvent): void {
    const log = this.log;
    switch (e.type) {
      case "waiting":
        log.info(`${what}: waiting for the lock ${e.lock}, held by ${describeProcess(e.holder)} since ${e.holder.since}; its lease ends ${e.leaseEnds.toISOString()} unless renewed`);
        break;
      case "taken-over":
        log.warn(`${what}: took over the lock ${e.lock} from ${describeProcess(e.holder)}: ${e.why}`);
        break;
      case "damaged":
        log.error({ file: e.lock, problem: e.problem, copy: e.copy }, damagedFileMessage(e.lock, e.problem, e.copy, "taking the lock"));
        break;
      case "lost":
        log.error(`${what}: lost the lock ${e.lock}${e.holder ? ` to ${describeProcess(e.holder)}` : ""}: its lease ran out while storage could not be reached; the work under it goes on but is no longer exclusive`);
        break;
    }
  }
}
