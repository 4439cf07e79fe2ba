// Keeps one certificate per name set installed and fresh. Per set: the stored certificate is
// checked and installed at once; a missing, damaged or due one is ordered under a storage lock
// (so instances sharing storage order once), counted against the order budget before it is
// placed, installed for the next handshake the moment it is issued, and only then stored — while
// storage cannot be written it is served from memory and the write is retried. An order a stop
// interrupted is resumed, not placed again. Failures keep the current certificate and retry
// with backoff. One log line per step; every renewal says why.
import type { CaFetch, Observation } from "./problem-catalogue.js";
import type { Logger } from "../log.js";
import { damagedFileMessage, setAsideDamaged } from "../storage/damaged-files.js";
import { describeProcess } from "../storage/process-identity.js";
import type { LockEvent, Storage, StorageLock } from "../storage/storage.js";
import type { CertificateCache } from "../tls/certificate-cache.js";
import { covers, readCertificate } from "../tls/certificate-info.js";
import { accountLockName, AcmeAccount } from "./account.js";
import type { CertificateEvent, CertificateObserver } from "./certificate-events.js";
import { caId as caIdOf, CaSetupError, fetchDirectory, profileProblem, type AcmeDirectory, type CaChoice } from "./ca-directory.js";
import { CaTransport } from "./ca-transport.js";
import type { Http01Challenges } from "./http01-challenges.js";
import { Dns01Solver } from "./dns01-solver.js";
import type { Dns01Provider } from "./dns01/provider.js";
import { Http01Solver, removeLeftoverTokens } from "./http01-solver.js";
import type { TlsAlpn01Challenges } from "./tls-alpn01-challenges.js";
import { followSharedChallenges } from "./shared-challenges.js";
import { TlsAlpn01Solver } from "./tls-alpn01-solver.js";
import { Issuer, type ChallengeSolver, type ChallengeType, type IssueJournal, type IssueStep, type KeyType } from "./issuer.js";
import { AcmeProblem } from "./problems.js";
import { DEFAULT_CHALLENGES } from "./dns01/challenge-settings.js";
import { budgetLimitsFor, BudgetSpent, OrderBudget, type BudgetSettings } from "./order-budget.js";
import {
  adoptFolder,
  finishSwitch,
  foldersByNameSet,
  keyProblem,
  keyTypeOf,
  parsePendingOrder,
  readSet,
  setKey,
  SET_FILES,
  setFolder,
  setLockName,
  switchIn,
  type CertificateMeta,
  type PendingOrder,
  type StoredCertificate,
} from "./stored-set.js";
import {
  DEFAULT_RETRY,
  fetchRenewalInfo,
  lifetimeRenewalTime,
  planFromWindow,
  retryDelay,
  runAt,
  systemClock,
  type Clock,
  type OrderReason,
  type RenewalPlan,
  type RetryPolicy,
} from "./renewal.js";

export interface NameSet {
  names: string[];
  keyType?: KeyType;
  profile?: string;
  challenges?: ChallengeType[];
  /** Publishes this set's DNS-01 TXT records (the site's tls.dns). */
  dns01?: Dns01Provider;
  /** The site's tls settings as written: a reload that changes them replaces the set's certificate. */
  settings?: string;
}

export interface CertificateManagerOptions {
  ca: CaChoice;
  /** A staging CA: the first issuance of each name set is tried there before `ca` is asked. */
  rehearsal?: CaChoice;
  /** PEM of an extra root trusted for the CA's API. */
  caRoot?: string;
  email?: string;
  acceptTerms?: boolean;
  eab?: { kid: string; hmac_key: string };
  storage: Storage;
  certificates: CertificateCache;
  challenges: Http01Challenges;
  /** Where TLS-ALPN-01 challenge certificates go (the HTTPS listener answers from it). */
  tlsAlpnChallenges?: TlsAlpn01Challenges;
  /** What padlock itself sees at a name's HTTP-01 URL when a validation fails (for the message). */
  observeHttp01?: (name: string, fetched: CaFetch | undefined) => Promise<Observation[]>;
  sets: NameSet[];
  log: Logger;
  clock?: Clock;
  retry?: RetryPolicy;
  /** Delays between attempts to store a certificate served from memory meanwhile. */
  saveRetry?: RetryPolicy;
  /** The config's order_budget (the CA's published limits apply whatever it says). */
  budget?: BudgetSettings;
  random?: () => number;
  /** How often to ask the CA's ARI again when it gives no Retry-After (default 6 h). */
  ariRecheckMs?: number;
  /** Told of installs, plans, failures, orders, revocations and CA requests (status file, alerts, metrics). */
  onEvent?: CertificateObserver;
}

export interface NameSetStatus {
  names: string[];
  /** Where the set's files are in storage. */
  folder: string;
  serial?: string;
  notBefore?: Date;
  notAfter?: Date;
  nextRenewal?: RenewalPlan;
  nextRetry?: Date;
  failures: number;
  lastError?: string;
  /** The last order this process placed (or resumed) for the set: when, why, how it ended. */
  lastOrder?: { at: Date; reason: OrderReason; outcome: "issued" | "failed" };
  /** The certificate served was issued but could not be stored yet. */
  unsaved: boolean;
}

interface SetState {
  set: Required<Pick<NameSet, "names" | "keyType" | "challenges">> & Pick<NameSet, "profile" | "settings">;
  /** The names sorted: the same set in any order. */
  key: string;
  /** Solvers only this set uses (its DNS-01 provider). */
  solvers: Dns01Solver[];
  folder: string;
  current?: StoredCertificate;
  /** Issued and installed, not yet in storage: written again with backoff until it is. */
  unsaved?: StoredCertificate;
  saveFailures: number;
  cancelSave?: () => void;
  saving?: Promise<void>;
  plan?: RenewalPlan;
  nextRetry?: Date;
  failures: number;
  lastError?: string;
  lastOrder?: NameSetStatus["lastOrder"];
  /** Storage needs a look under the lock before anything else: damaged files, a switch or an order a stop interrupted, a folder to adopt. */
  untidy?: boolean;
  /** The stored pair was damaged and set aside: the next order says "key-damaged". */
  keyDamaged?: boolean;
  /** Serial of a stored certificate already found unusable or expired (said once). */
  passedOver?: string;
  /** The first issuance was rehearsed against staging successfully (not again before production). */
  rehearsed?: boolean;
  /** Clock time this process installed a certificate it had just ordered. */
  issuedAt?: number;
  running?: Promise<void>;
  cancelTimers: (() => void)[];
  /** A reload removed it: it is no longer renewed. */
  dropped?: boolean;
  /** Reading storage after another instance changed it; again once done when `reloadAgain`. */
  reloading?: Promise<void>;
  reloadAgain?: boolean;
}

/** check: order only when missing or due; scheduled: the renewal time came; forced, revoked: order now. */
type RefreshMode = "check" | "scheduled" | "forced" | "revoked";

interface Connection {
  /** Its own per directory: a CA's nonces are no good at another. */
  transport: CaTransport;
  directory: AcmeDirectory;
  account: AcmeAccount;
  issuer: Issuer;
  budget: OrderBudget;
}

const DEFAULT_ARI_RECHECK_MS = 6 * 3600_000;
/** Storing a certificate served from memory: again after 2 s, doubling, at least once a minute. */
const SAVE_RETRY: RetryPolicy = { baseMs: 2_000, maxMs: 60_000 };
/** At shutdown, one last try to store a certificate served from memory waits this long for the lock. */
const LAST_SAVE_LOCK_MS = 5_000;

export class CertificateManager {
  private readonly transport: CaTransport;
  private readonly solvers: ChallengeSolver[];
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly caId: string;
  private states: SetState[];
  /** By directory URL: the CA, and its staging directory when rehearsing. */
  private readonly connections = new Map<string, Promise<Connection>>();
  private closed = false;
  /** Stops following storage shared with other instances. */
  private readonly stopFollowing: (() => void)[] = [];
  /** Attempts to obtain a certificate that placed an order (one attempt may place several: a challenge fallback). */
  ordersPlaced = 0;

  constructor(private readonly o: CertificateManagerOptions) {
    // Created first: from now on this instance also answers challenges other instances sharing
    // the storage published, even before its own CA connection is up.
    this.solvers = [new Http01Solver(o.challenges, o.storage, (err) => o.log.warn(`could not share an HTTP-01 token through storage (${(err as Error).message}); this instance answers the CA itself`))];
    if (o.tlsAlpnChallenges) this.solvers.push(new TlsAlpn01Solver(o.tlsAlpnChallenges, o.storage, (err) => o.log.warn(`could not share a TLS-ALPN-01 challenge through storage (${(err as Error).message}); this instance answers the CA itself`)));
    this.transport = new CaTransport({ extraRoot: o.caRoot, observe: (outcome) => this.emit({ type: "ca-request", outcome }) });
    this.clock = o.clock ?? systemClock;
    this.random = o.random ?? Math.random;
    this.caId = caIdOf(o.ca.directoryUrl);
    this.states = o.sets.map((s) => this.newState(s));
  }

  /**
   * Installs stored certificates, then checks the CA (a directory that is not ACME or terms not
   * accepted stop start-up: retrying would not help) and starts ordering what is missing in the
   * background. A CA that cannot be reached is retried with backoff, HTTP keeps serving. Damaged
   * files, an interrupted order and the like are dealt with per set in the background, so one
   * set's trouble never holds up the others.
   */
  async start(): Promise<void> {
    await removeLeftoverTokens(this.o.storage, this.o.log).catch((err: unknown) => this.o.log.warn(`could not look for challenge files left behind: ${(err as Error).message}`));
    await this.followStorage();
    const folders = await this.folders();
    await Promise.all(this.states.map((s) => this.load(s, folders)));
    try {
      const { directory } = await this.connect();
      for (const s of this.states) {
        const problem = profileProblem(directory, this.o.ca.directoryUrl, s.set.profile);
        if (problem) throw new CaSetupError(`${label(s)}: ${problem}`);
      }
    } catch (err) {
      if (err instanceof CaSetupError) throw err;
      // Unreachable: each set's first attempt reports it and schedules its retry.
    }
    for (const s of this.states) this.begin(s);
  }

  /**
   * A config reload, handled as start-up would for what changed: a new set is obtained, a set no
   * longer in the config is no longer maintained (its files stay), a set whose names or tls
   * settings changed gets a certificate for the new settings. One log line for each.
   */
  async update(sets: NameSet[]): Promise<void> {
    const log = this.o.log;
    const before = new Map(this.states.map((s) => [s.key, s]));
    const next: SetState[] = [];
    const added: SetState[] = [];
    for (const set of sets) {
      const fresh = this.newState(set);
      const old = before.get(fresh.key);
      if (old && old.set.settings === fresh.set.settings) {
        next.push(old);
        before.delete(fresh.key);
        continue;
      }
      if (old) {
        this.drop(old);
        before.delete(fresh.key);
        log.info(`config reload: ${label(fresh)}: tls settings changed; getting a certificate for the new settings`);
      }
      next.push(fresh);
      added.push(fresh);
    }
    const renamed = new Set<SetState>();
    for (const gone of before.values()) {
      this.drop(gone);
      const successor = added.find((a) => !renamed.has(a) && a.set.names.some((n) => gone.set.names.includes(n)));
      if (successor) {
        renamed.add(successor);
        log.info(`config reload: names changed from [${label(gone)}] to [${label(successor)}]: ordering a certificate for the new set; the old one is no longer renewed (its files stay in ${this.o.storage.describe(gone.folder)})`);
      } else {
        log.info(`config reload: ${label(gone)}: no longer in the config; its certificate is no longer renewed (its files stay in ${this.o.storage.describe(gone.folder)})`);
      }
    }
    for (const a of added) if (!renamed.has(a)) log.info(`config reload: ${label(a)}: new in the config; obtaining its certificate as at start-up`);
    this.states = next;
    const folders = await this.folders();
    await Promise.all(added.map((s) => this.load(s, folders)));
    for (const s of added) this.begin(s);
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const stop of this.stopFollowing.splice(0)) stop();
    for (const s of this.states) {
      this.cancel(s);
      s.cancelSave?.();
    }
    // DNS-01 work in flight ends now, its records removed, instead of running to its timeouts.
    for (const s of this.states) for (const solver of s.solvers) solver.abandon();
    await Promise.allSettled(this.states.map((s) => s.running));
    await Promise.allSettled(this.states.map((s) => s.saving));
    // A certificate still only in memory gets one last try (storage may have been fixed meanwhile).
    await Promise.allSettled(this.states.filter((s) => s.unsaved).map((s) => this.save(s, false, LAST_SAVE_LOCK_MS)));
    const others = await Promise.allSettled([...this.connections.values()]);
    for (const c of others) if (c.status === "fulfilled" && c.value.transport !== this.transport) await c.value.transport.close();
    await this.transport.close();
  }

  status(): NameSetStatus[] {
    return this.states.map((s) => ({
      names: s.set.names,
      folder: s.folder,
      serial: s.current?.info.serial,
      notBefore: s.current?.info.notBefore,
      notAfter: s.current?.info.notAfter,
      nextRenewal: s.plan,
      nextRetry: s.nextRetry,
      failures: s.failures,
      lastError: s.lastError,
      lastOrder: s.lastOrder,
      unsaved: s.unsaved !== undefined,
    }));
  }

  /**
   * Why a name this manager is responsible for has no certificate installed, in words for a log
   * line; undefined when no name set of this manager has the name.
   */
  whyNoCertificate(name: string): string | undefined {
    const s = this.states.find((st) => st.set.names.some((n) => n === name || (n.startsWith("*.") && name.endsWith(n.slice(1)) && !name.slice(0, -n.length + 1).includes("."))));
    if (!s) return undefined;
    if (s.running) return "issuance is in progress";
    if (s.nextRetry && s.lastError) return `the last attempt failed (${s.lastError.length > 200 ? `${s.lastError.slice(0, 200)}…` : s.lastError}); next attempt at ${s.nextRetry.toISOString()}`;
    return "none has been obtained yet";
  }

  /** Renew now: `force` orders even when the certificate is not due. Resolves when done. */
  async renew(names: string[], options: { force?: boolean } = {}): Promise<void> {
    await this.refreshNow(this.stateOf(names), options.force ? "forced" : "check");
  }

  /**
   * Revokes the current certificate (RFC 8555 §7.6, `reason` an RFC 5280 code), then orders its
   * replacement at once. Resolves when the new certificate is installed; throws if either fails.
   */
  async revoke(names: string[], reason: { code: number; name: string }): Promise<void> {
    const s = this.stateOf(names);
    const current = s.current;
    if (!current) throw new Error(`${label(s)}: there is no certificate to revoke yet`);
    const { account } = await this.connect();
    await account.revoke(current.chainPem, reason.code);
    this.o.log.warn({ names: s.set.names, serial: current.info.serial, reason: reason.name }, `${label(s)}: revoked certificate ${current.info.serial} (${reason.name}); ordering a replacement`);
    this.emit({ type: "revoked", names: s.set.names, folder: s.folder, serial: current.info.serial, reason: reason.name });
    await this.refreshNow(s, "revoked");
  }

  private async refreshNow(s: SetState, mode: RefreshMode): Promise<void> {
    // An attempt already under way was started for another reason: let it end, then start ours.
    while (s.running) await s.running;
    await this.refresh(s, mode);
    if (s.lastError && s.failures > 0) throw new Error(s.lastError);
  }

  private stateOf(names: string[]): SetState {
    const s = this.states.find((st) => names.every((n) => st.set.names.includes(n)));
    if (!s) throw new Error(`no managed certificate covers ${names.join(", ")}`);
    return s;
  }

  private newState(s: NameSet): SetState {
    return {
      set: { names: s.names, keyType: s.keyType ?? "ecdsa-p256", profile: s.profile, challenges: s.challenges ?? DEFAULT_CHALLENGES, settings: s.settings },
      key: setKey(s.names),
      solvers: s.dns01 ? [new Dns01Solver(s.dns01, this.o.log, s.names.join(", "), this.o.storage)] : [],
      folder: setFolder(this.caId, s.names),
      failures: 0,
      saveFailures: 0,
      cancelTimers: [],
    };
  }

  private get caFolder(): string {
    return `certificates/${this.caId}`;
  }

  private emit(event: CertificateEvent): void {
    this.o.onEvent?.(event);
  }

  /** The set folders under this CA's folder, by name set. */
  private folders(): Promise<Map<string, string[]>> {
    return foldersByNameSet(this.o.storage, this.caFolder).catch((err: unknown) => {
      this.o.log.warn(`could not list ${this.o.storage.describe(this.caFolder)}: ${(err as Error).message}`);
      return new Map<string, string[]>();
    });
  }

  /**
   * Installs the set's stored certificate when it is sound, usable and current, without the
   * lock (start-up must not wait for another instance's order); anything else is left for
   * obtain(), which looks again under the lock.
   */
  private async load(s: SetState, folders: Map<string, string[]>): Promise<void> {
    if ((folders.get(s.key) ?? []).some((f) => f !== s.folder)) s.untidy = true;
    try {
      if (await this.o.storage.get(`${s.folder}/${SET_FILES.order}`)) s.untidy = true;
      const contents = await readSet(this.o.storage, s.folder);
      if (contents.kind !== "ok") {
        if (contents.kind !== "none") s.untidy = true;
        return;
      }
      if (!contents.meta) s.untidy = true;
      this.installStored(s, this.storedCertificate(s, contents), "from storage");
    } catch (err) {
      this.o.log.warn(`${label(s)}: could not read ${this.o.storage.describe(s.folder)} (${(err as Error).message}); trying again under the lock`);
      s.untidy = true;
    }
  }

  private begin(s: SetState): void {
    if (!s.current) this.o.log.info(`${label(s)}: no certificate yet; HTTPS for these names starts as soon as one is issued (HTTP keeps serving meanwhile)`);
    if (s.current && !s.untidy) this.schedule(s);
    else void this.refresh(s, "check");
  }

  /**
   * Storage shared by instances (Redis) tells of changes: a set another instance stored is
   * loaded and served at once, and the challenges others publish are held in memory. When
   * changes may have been missed (the connection came back), every set is looked at again and a
   * certificate still only in memory is written now.
   */
  private async followStorage(): Promise<void> {
    const { storage, log } = this.o;
    if (!storage.watch) return;
    const stop = await storage.watch(`${this.caFolder}/`, (key) => {
      for (const s of this.states) if (key === undefined || key.startsWith(`${s.folder}/`)) this.reloadSoon(s, key === undefined);
    });
    this.stopFollowing.push(stop, await followSharedChallenges(storage, this.o.challenges, this.o.tlsAlpnChallenges, log));
  }

  /** One reload at a time per set; a change heard meanwhile reads storage once more after it. */
  private reloadSoon(s: SetState, missed: boolean): void {
    if (missed && s.unsaved && !this.closed) void this.save(s, false);
    if (s.reloading) {
      s.reloadAgain = true;
      return;
    }
    s.reloading = this.reloadStored(s)
      .catch((err: unknown) => this.o.log.warn(`${label(s)}: could not read ${this.o.storage.describe(s.folder)} after another instance changed it (${(err as Error).message}); it is read again under the lock at the next renewal`))
      .finally(() => {
        s.reloading = undefined;
        if (s.reloadAgain) {
          s.reloadAgain = false;
          this.reloadSoon(s, false);
        }
      });
  }

  /** Installs the set's stored certificate when another instance stored a newer one than this one serves. */
  private async reloadStored(s: SetState): Promise<void> {
    // An attempt under way reads storage under the lock itself; an unsaved certificate is newer.
    if (this.closed || s.dropped || s.running || s.unsaved) return;
    const contents = await readSet(this.o.storage, s.folder);
    // Half-way through another instance's switch (the meta.json of the new pair comes last): the next message tells.
    if (contents.kind !== "ok" || !contents.meta || contents.info.serial === s.current?.info.serial) return;
    if (s.current && contents.info.notBefore < s.current.info.notBefore) return;
    if (this.installStored(s, this.storedCertificate(s, contents), "stored by another instance")) this.schedule(s);
  }

  /** One attempt to make the set's certificate fresh; never throws, schedules what comes next. */
  private refresh(s: SetState, mode: RefreshMode): Promise<void> {
    if (s.running) return s.running;
    this.cancel(s);
    s.running = this.obtain(s, mode)
      .then(() => {
        s.failures = 0;
        s.lastError = undefined;
        s.nextRetry = undefined;
        this.schedule(s);
      })
      .catch((err: unknown) => this.failed(s, err))
      .finally(() => {
        s.running = undefined;
      });
    return s.running;
  }

  private async obtain(s: SetState, mode: RefreshMode): Promise<void> {
    const lock = await this.lockSet(s);
    try {
      // Another instance sharing the storage may have just done the work.
      if (await this.tidy(s)) return;
      const pending = await this.pendingOrder(s);
      const reason = pending?.order.reason ?? this.reasonToOrder(s, mode);
      if (reason) await this.order(s, reason, pending);
    } finally {
      await lock.release().catch((err: unknown) => this.o.log.warn(`${label(s)}: could not release its lock (${(err as Error).message}); it is taken over when next needed`));
    }
  }

  /**
   * Under the set's lock, brings storage in order: adopts folders of the same names in another
   * order, finishes a switch a stop interrupted, sets damaged files aside. Installs a stored
   * certificate newer than the one served; true when that one needs no renewal.
   */
  private async tidy(s: SetState): Promise<boolean> {
    const { storage, log } = this.o;
    for (const other of (await foldersByNameSet(storage, this.caFolder)).get(s.key) ?? []) {
      if (other === s.folder) continue;
      const what = await adoptFolder(storage, other, s.folder, new Date(this.clock.now()));
      log.info(`${label(s)}: adopted ${storage.describe(other)} (the same names in another order) into ${storage.describe(s.folder)}: ${what}`);
    }
    let contents = await readSet(storage, s.folder);
    if (contents.kind === "switching") {
      const done = await finishSwitch(storage, s.folder);
      if ("serial" in done) log.info(`${label(s)}: finished storing certificate ${done.serial}, which a stop had interrupted`);
      else await setAsideDamaged(storage, log, `${s.folder}/${SET_FILES.newCert}`, done.problem, "ordering a new certificate if one is needed");
      contents = await readSet(storage, s.folder);
    }
    if (contents.kind === "damaged") {
      const action = s.current ? `storing certificate ${s.current.info.serial}, which padlock serves from memory, in its place` : "ordering a new certificate (renewal reason: key-damaged)";
      for (const f of contents.files) await setAsideDamaged(storage, log, `${s.folder}/${f.file}`, f.problem, action);
      if (s.current) {
        s.unsaved ??= s.current;
        await this.save(s, true);
      } else {
        s.keyDamaged = true;
      }
    }
    s.untidy = false;
    if (contents.kind !== "ok") return false;
    if (contents.metaProblem) await setAsideDamaged(storage, log, `${s.folder}/${SET_FILES.meta}`, contents.metaProblem, "writing it again from the certificate");
    const stored = this.storedCertificate(s, contents);
    if (!contents.meta) await storage.put(`${s.folder}/${SET_FILES.meta}`, JSON.stringify(stored.meta, null, 2) + "\n").catch((err: unknown) => log.warn(`${label(s)}: could not write ${SET_FILES.meta} again: ${(err as Error).message}`));
    // A certificate issued here and not yet stored is newer than anything in storage.
    if (s.unsaved || stored.info.serial === s.current?.info.serial) return false;
    return this.installStored(s, stored, s.current ? "stored by another instance" : "from storage") && !this.isDue(stored);
  }

  /** Installs a stored certificate that fits the config and has not expired; says why not otherwise. */
  private installStored(s: SetState, cert: StoredCertificate, how: string): boolean {
    if (s.passedOver === cert.info.serial) return false;
    s.passedOver = cert.info.serial;
    if (!this.usable(s, cert)) {
      this.o.log.info(`${label(s)}: the stored certificate does not match the config (names, key type or profile changed); ordering a new one`);
      return false;
    }
    if (cert.info.notAfter.getTime() <= this.clock.now()) {
      this.o.log.warn(`${label(s)}: the stored certificate expired on ${cert.info.notAfter.toISOString()}; ordering a new one`);
      return false;
    }
    s.passedOver = undefined;
    this.install(s, cert, how);
    return true;
  }

  /** The stored pair with its meta.json, which is written again from the certificate when missing, damaged or stale. */
  private storedCertificate(s: SetState, contents: Extract<Awaited<ReturnType<typeof readSet>>, { kind: "ok" }>): StoredCertificate {
    const { chainPem, keyPem, info } = contents;
    const meta: CertificateMeta = contents.meta ?? {
      names: s.set.names,
      ca: this.o.ca.directoryUrl,
      keyType: keyTypeOf(keyPem) ?? s.set.keyType,
      profile: s.set.profile,
      serial: info.serial,
      notBefore: info.notBefore.toISOString(),
      notAfter: info.notAfter.toISOString(),
      ariId: info.ariId,
      issuedAt: info.notBefore.toISOString(),
    };
    return { chainPem, keyPem, info, meta };
  }

  /** Why a new certificate is needed now, or undefined when the current one is fine. */
  private reasonToOrder(s: SetState, mode: RefreshMode): OrderReason | undefined {
    if (mode === "forced" || mode === "revoked") return mode;
    const cert = s.current;
    if (!cert || !this.usable(s, cert)) return s.keyDamaged ? "key-damaged" : "new";
    if (mode === "scheduled" || this.isDue(cert, s.plan)) return s.plan?.reason ?? "expiring";
    return undefined;
  }

  /** An order a stopped process left (pending-order.json), to resume; undefined when there is none. */
  private async pendingOrder(s: SetState): Promise<{ order: PendingOrder; keyPem?: string } | undefined> {
    const { storage, log } = this.o;
    const key = `${s.folder}/${SET_FILES.order}`;
    const raw = await storage.get(key);
    if (!raw) return undefined;
    const order = parsePendingOrder(raw);
    if (typeof order === "string") {
      await setAsideDamaged(storage, log, key, order, "the order it describes is not resumed; a new one is placed if needed");
      return undefined;
    }
    // Stored already (a stop came between storing the pair and removing this record).
    if (order.orderUrl && order.orderUrl === s.current?.meta.orderUrl) {
      await storage.delete(key);
      return undefined;
    }
    const keyPem = (await storage.get(`${s.folder}/${SET_FILES.orderKey}`))?.toString("utf8");
    const problem = keyPem === undefined ? undefined : keyProblem(keyPem);
    if (problem) await setAsideDamaged(storage, log, `${s.folder}/${SET_FILES.orderKey}`, problem, "the order is resumed with a new key if the CA has not issued its certificate yet");
    return { order, keyPem: problem ? undefined : keyPem };
  }

  private async order(s: SetState, reason: OrderReason, pending?: { order: PendingOrder; keyPem?: string }): Promise<void> {
    if (this.o.rehearsal && reason === "new" && !s.current && !pending && !s.rehearsed) await this.rehearse(s, this.o.rehearsal);
    const conn = await this.connect();
    const problem = profileProblem(conn.directory, this.o.ca.directoryUrl, s.set.profile);
    if (problem) throw new CaSetupError(problem);
    const replaces = pending ? pending.order.replaces : conn.directory.renewalInfo ? s.current?.info.ariId : undefined;
    const journal = new SetJournal(conn.budget, s.set.names, this.o.storage, this.o.log, () => this.ordersPlaced++, { folder: s.folder, reason, replaces, pending: pending?.order, now: () => this.clock.now() });
    const started = performance.now();
    let issued;
    try {
      issued = await conn.issuer.issue({
        names: s.set.names,
        keyType: s.set.keyType,
        profile: s.set.profile,
        replaces,
        challenges: s.set.challenges,
        solvers: s.solvers,
        onStep: (step) => this.logStep(s, step, this.o.ca, reason),
        journal,
        orderUrl: pending?.order.orderUrl,
        keyPem: pending?.keyPem,
      });
    } catch (err) {
      if (journal.ordered) this.ordered(s, reason, "failed");
      throw err;
    }
    const info = readCertificate(issued.chainPem);
    const meta: CertificateMeta = {
      names: s.set.names,
      ca: this.o.ca.directoryUrl,
      keyType: s.set.keyType,
      profile: s.set.profile,
      serial: info.serial,
      notBefore: info.notBefore.toISOString(),
      notAfter: info.notAfter.toISOString(),
      ariId: info.ariId,
      replaces,
      orderUrl: issued.orderUrl,
      issuedAt: new Date(this.clock.now()).toISOString(),
      reason,
    };
    const cert: StoredCertificate = { chainPem: issued.chainPem, keyPem: issued.keyPem, info, meta };
    // Served first: whatever happens to storage from here on, the certificate is not lost.
    s.issuedAt = this.clock.now();
    s.keyDamaged = false;
    s.unsaved = cert;
    this.install(s, cert, `issued in ${((performance.now() - started) / 1000).toFixed(2)} s${reason === "new" ? "" : `; renewal reason: ${reason}`}`);
    this.ordered(s, reason, "issued");
    await journal.issued();
    await this.save(s, true);
  }

  private ordered(s: SetState, reason: OrderReason, outcome: "issued" | "failed"): void {
    const at = new Date(this.clock.now());
    s.lastOrder = { at, reason, outcome };
    this.emit({ type: "ordered", names: s.set.names, folder: s.folder, reason, outcome, at });
  }

  /**
   * Writes the certificate served from memory into storage. A failure is logged with the path,
   * the system's error and the fix, and tried again with growing delays; it never leads to a
   * new order.
   */
  private save(s: SetState, locked: boolean, lockTimeoutMs?: number): Promise<void> {
    s.cancelSave?.();
    s.cancelSave = undefined;
    const attempt = async (): Promise<StoredCertificate | undefined> => {
      const cert = s.unsaved;
      if (!cert) return undefined;
      await switchIn(this.o.storage, s.folder, cert);
      if (s.unsaved === cert) s.unsaved = undefined;
      return cert;
    };
    const saving = (async () => {
      let stored: StoredCertificate | undefined;
      try {
        if (locked) stored = await attempt();
        else {
          const lock = await this.lockSet(s, lockTimeoutMs);
          try {
            stored = await attempt();
          } finally {
            await lock.release().catch(() => undefined);
          }
        }
      } catch (err) {
        const cert = s.unsaved;
        if (!cert) return;
        s.saveFailures++;
        const delay = retryDelay(s.saveFailures, this.o.saveRetry ?? SAVE_RETRY, undefined, undefined, this.random);
        const again = this.closed ? "Not tried again: padlock is stopping; the next start fetches it from the CA again if storage took the order's record, else orders anew" : `It is served from memory meanwhile and nothing is ordered again; next attempt in ${formatDuration(delay)}`;
        this.o.log.error(
          { names: s.set.names, folder: this.o.storage.describe(s.folder), code: (err as { code?: string }).code, attempt: s.saveFailures, retryInMs: Math.round(delay) },
          `${label(s)}: could not store certificate ${cert.info.serial} (attempt ${s.saveFailures}): ${(err as Error).message.replace(/\.$/, "")}. ${again}`,
        );
        if (!this.closed) s.cancelSave = runAt(this.clock, this.clock.now() + delay, () => void this.save(s, false));
        return;
      }
      if (stored && s.saveFailures > 0) {
        this.o.log.info(`${label(s)}: stored certificate ${stored.info.serial} in ${this.o.storage.describe(s.folder)} after ${s.saveFailures} failed attempt(s); it was served from memory meanwhile`);
      }
      s.saveFailures = 0;
    })();
    s.saving = saving;
    return saving;
  }

  /**
   * A first issuance goes to the staging directory first, so a broken setup (DNS, ports, a DNS
   * provider) fails there and not against the production CA's rate limits. The staging
   * certificate is thrown away.
   */
  private async rehearse(s: SetState, staging: CaChoice): Promise<void> {
    const log = this.o.log;
    log.info(`${label(s)}: first certificate for these names: rehearsing against the staging directory ${staging.directoryUrl} before asking ${this.o.ca.directoryUrl}`);
    try {
      const conn = await this.connect(staging.directoryUrl);
      const journal = new BudgetJournal(conn.budget, s.set.names);
      await conn.issuer.issue({
        names: s.set.names,
        keyType: s.set.keyType,
        challenges: s.set.challenges,
        solvers: s.solvers,
        onStep: (step) => this.logStep(s, step, staging, "new"),
        journal,
      });
      await journal.issued();
    } catch (err) {
      log.warn(`${label(s)}: the rehearsal against the staging directory ${staging.directoryUrl} failed; the production directory ${this.o.ca.directoryUrl} was not asked`);
      throw err;
    }
    s.rehearsed = true;
    log.info(`${label(s)}: the rehearsal against the staging directory ${staging.directoryUrl} passed; ordering from the production directory ${this.o.ca.directoryUrl}`);
  }

  private failed(s: SetState, err: unknown): void {
    const message = err instanceof Error ? err.message : String(err);
    if (this.closed) {
      // Stopping: nothing is scheduled, so no "next attempt" is promised.
      this.o.log.warn({ names: s.set.names }, `${label(s)}: getting a certificate was stopped: ${message.replace(/\.$/, "")}; the next start tries again`);
      return;
    }
    s.failures++;
    s.lastError = message;
    const waitUntil = err instanceof BudgetSpent ? err.nextTry : err instanceof AcmeProblem ? err.retryAfter : undefined;
    const retryAfterMs = waitUntil ? waitUntil.getTime() - this.clock.now() : undefined;
    const life = s.current ? s.current.info.notAfter.getTime() - s.current.info.notBefore.getTime() : undefined;
    const delay = retryDelay(s.failures, this.o.retry ?? DEFAULT_RETRY, life, retryAfterMs, this.random);
    s.nextRetry = new Date(this.clock.now() + delay);
    const keeping = s.current
      ? `keeping the current certificate (valid until ${s.current.info.notAfter.toISOString()})`
      : "HTTPS for these names waits, HTTP keeps serving";
    const limited = err instanceof AcmeProblem && err.rateLimited ? " (rate limited: waiting as the CA asks)" : "";
    this.o.log.error(
      { names: s.set.names, attempt: s.failures, problem: err instanceof AcmeProblem ? err.type : undefined, retryInMs: Math.round(delay) },
      `${label(s)}: getting a certificate failed (attempt ${s.failures}): ${message.replace(/\.$/, "")}. ${keeping}; next attempt in ${formatDuration(delay)}${limited}`,
    );
    if (err instanceof Error && !(err instanceof AcmeProblem) && !(err.name === "CaUnreachable") && !(err instanceof CaSetupError) && !(err instanceof BudgetSpent)) {
      this.o.log.debug({ err }, "failure details");
    }
    const current = s.current && { serial: s.current.info.serial, notBefore: s.current.info.notBefore, notAfter: s.current.info.notAfter };
    this.emit({ type: "failed", names: s.set.names, folder: s.folder, message, error: err, failures: s.failures, nextRetry: s.nextRetry, current });
    if (!this.closed && !s.dropped) s.cancelTimers.push(runAt(this.clock, s.nextRetry.getTime(), () => void this.refresh(s, "check")));
  }

  private install(s: SetState, cert: StoredCertificate, how: string): void {
    this.o.certificates.install(cert.keyPem, cert.chainPem, s.set.names, cert.info.notAfter);
    s.current = cert;
    s.plan = undefined;
    this.o.log.info(
      { names: s.set.names, serial: cert.info.serial, notAfter: cert.info.notAfter.toISOString() },
      `${label(s)}: installed certificate ${cert.info.serial} (${how}), valid until ${cert.info.notAfter.toISOString()}`,
    );
    this.emit({ type: "installed", names: s.set.names, folder: s.folder, serial: cert.info.serial, notBefore: cert.info.notBefore, notAfter: cert.info.notAfter, how });
  }

  /** Plans the next renewal of the current certificate: ARI window if offered, else 2/3 of its life. */
  private schedule(s: SetState): void {
    if (this.closed || s.dropped || !s.current) return;
    this.cancel(s);
    const cert = s.current;
    const lifetimePlan: RenewalPlan = { at: lifetimeRenewalTime(cert.info.notBefore, cert.info.notAfter, this.random), reason: "expiring" };
    const apply = (proposed: RenewalPlan, recheckAt?: Date) => {
      if (s.current !== cert || this.closed || s.dropped) return;
      this.cancel(s);
      const plan = this.notTooSoon(s, proposed);
      s.plan = plan;
      this.emit({ type: "planned", names: s.set.names, folder: s.folder, plan });
      const where = plan.reason === "ari-window" ? `inside the CA's ARI window ${plan.window!.start.toISOString()} – ${plan.window!.end.toISOString()}` : "at 2/3 of its lifetime";
      this.o.log.info({ names: s.set.names, renewAt: plan.at.toISOString(), reason: plan.reason }, `${label(s)}: next renewal ${plan.at.toISOString()} (${where})`);
      s.cancelTimers.push(runAt(this.clock, plan.at.getTime(), () => void this.refresh(s, "scheduled")));
      if (recheckAt && recheckAt < plan.at) s.cancelTimers.push(runAt(this.clock, recheckAt.getTime(), () => this.schedule(s)));
    };
    if (!cert.info.ariId) return apply(lifetimePlan);
    this.ariPlan(cert, s.plan).then(
      (ari) => apply(ari?.plan ?? lifetimePlan, ari?.recheckAt),
      (err: unknown) => {
        this.o.log.warn(`${label(s)}: the CA's renewal information (ARI) is unavailable (${(err as Error).message}); falling back to 2/3 of the lifetime`);
        apply(lifetimePlan, new Date(this.clock.now() + (this.o.ariRecheckMs ?? DEFAULT_ARI_RECHECK_MS)));
      },
    );
  }

  /**
   * A certificate issued moments ago is never renewed at once (a local clock far off the CA's,
   * or a CA window already past): wait a tenth of its lifetime (an hour at most), so a mistake
   * cannot loop orders.
   */
  private notTooSoon(s: SetState, plan: RenewalPlan): RenewalPlan {
    const { info } = s.current!;
    const issuedAt = s.issuedAt;
    if (issuedAt === undefined) return plan;
    const earliest = issuedAt + Math.min(3600_000, (info.notAfter.getTime() - info.notBefore.getTime()) / 10);
    if (plan.at.getTime() >= earliest) return plan;
    this.o.log.warn(`${label(s)}: the certificate just issued would be due for renewal already (is this machine's clock right? it says ${new Date(this.clock.now()).toISOString()}); waiting until ${new Date(earliest).toISOString()}`);
    return { ...plan, at: new Date(earliest) };
  }

  private async ariPlan(cert: StoredCertificate, previous: RenewalPlan | undefined): Promise<{ plan: RenewalPlan; recheckAt: Date } | undefined> {
    const conn = await this.connect();
    if (!conn.directory.renewalInfo) return undefined;
    const now = this.clock.now();
    const info = await fetchRenewalInfo(this.transport, conn.directory.renewalInfo, cert.info.ariId!, now);
    const at = planFromWindow(info.window, previous?.reason === "ari-window" ? previous.at : undefined, this.random);
    const recheckAt = info.recheckAt ?? new Date(now + (this.o.ariRecheckMs ?? DEFAULT_ARI_RECHECK_MS));
    return { plan: { at, reason: "ari-window", window: info.window }, recheckAt };
  }

  /** Due at its renewal plan's time, or (no plan yet) two thirds into its lifetime. */
  private isDue(cert: StoredCertificate, plan?: RenewalPlan): boolean {
    const now = this.clock.now();
    if (now >= cert.info.notAfter.getTime()) return true;
    const at = plan ? plan.at.getTime() : lifetimeRenewalTime(cert.info.notBefore, cert.info.notAfter, () => 0).getTime();
    return now >= at;
  }

  /** A stored certificate counts only if it is for this set, key type and profile. */
  private usable(s: SetState, c: StoredCertificate): boolean {
    return covers(c.info.names, s.set.names) && c.meta.keyType === s.set.keyType && (c.meta.profile ?? undefined) === s.set.profile;
  }

  private lockSet(s: SetState, timeoutMs?: number): Promise<StorageLock> {
    return this.o.storage.lock(setLockName(this.caId, s.folder), { timeoutMs, onEvent: (e) => this.lockEvent(label(s), e) });
  }

  /** Waiting for a lock, taking over a dead holder's, finding a damaged one: one line each. */
  private lockEvent(what: string, e: LockEvent): void {
    const log = this.o.log;
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

  private connect(directoryUrl = this.o.ca.directoryUrl): Promise<Connection> {
    let connection = this.connections.get(directoryUrl);
    if (connection) return connection;
    const caId = caIdOf(directoryUrl);
    const transport = directoryUrl === this.o.ca.directoryUrl ? this.transport : new CaTransport({ extraRoot: this.o.caRoot, observe: (outcome) => this.emit({ type: "ca-request", outcome }) });
    connection = (async () => {
      const directory = await fetchDirectory(transport, directoryUrl);
      const lock = await this.o.storage.lock(accountLockName(caId), { onEvent: (e) => this.lockEvent(`the ACME account at ${directoryUrl}`, e) });
      try {
        const account = await AcmeAccount.open({
          storage: this.o.storage,
          caId,
          directoryUrl,
          directory,
          transport,
          email: this.o.email,
          acceptTerms: this.o.acceptTerms,
          eab: this.o.eab,
          log: this.o.log,
        });
        const limits = budgetLimitsFor(directoryUrl === this.o.ca.directoryUrl ? this.o.ca : (this.o.rehearsal ?? this.o.ca), this.o.budget);
        const budget = new OrderBudget(this.o.storage, caId, limits, this.clock, this.o.log, (e) => this.lockEvent("the order budget", e));
        return { transport, directory, account, issuer: new Issuer(account, this.solvers, this.o.observeHttp01), budget };
      } finally {
        await lock.release().catch(() => undefined);
      }
    })();
    this.connections.set(directoryUrl, connection);
    connection.catch(() => {
      this.connections.delete(directoryUrl);
      if (transport !== this.transport) void transport.close();
    });
    return connection;
  }

  private logStep(s: SetState, step: IssueStep, ca: CaChoice, reason: OrderReason): void {
    const log = this.o.log;
    switch (step.step) {
      case "ordering":
        log.info(
          { names: s.set.names, reason },
          `${label(s)}: ordering a certificate from ${ca.label}${ca.label !== ca.directoryUrl ? ` (${ca.directoryUrl})` : ""}${reason === "new" ? "" : ` (renewal reason: ${reason})`}${step.profile ? ` (profile ${step.profile})` : ""}${step.replaces ? ` replacing ${step.replaces}` : ""}`,
        );
        break;
      case "resuming":
        if (step.status === "gone") log.info(`${label(s)}: the order ${step.orderUrl}, placed before padlock stopped, cannot be used any more; placing a new one`);
        else log.info({ names: s.set.names, reason }, `${label(s)}: resuming the order ${step.orderUrl}, placed before padlock stopped (the CA has it as ${step.status})`);
        break;
      case "validating":
        log.info(`${label(s)}: validating ${step.name} (${step.challenge})`);
        break;
      case "fallback":
        log.warn(`${step.name}: ${step.failed} failed (${step.reason}); ${step.next ? `trying ${step.next}` : "no other allowed challenge is left"}`);
        break;
      case "already-valid":
        log.info(`${label(s)}: ${step.name} is already validated for this account`);
        break;
      case "finalizing":
        log.info(`${label(s)}: finalizing`);
        break;
    }
  }

  private cancel(s: SetState): void {
    for (const c of s.cancelTimers.splice(0)) c();
  }

  private drop(s: SetState): void {
    s.dropped = true;
    this.cancel(s);
  }
}

/** Counts an order in the budget before it is placed, and how it ended. */
class BudgetJournal implements IssueJournal {
  protected ticket?: string;
  /** An order was placed or resumed. */
  ordered = false;

  constructor(
    protected readonly budget: OrderBudget,
    protected readonly names: string[],
  ) {}

  async placing(): Promise<void> {
    if (this.ticket) await this.abandoned();
    this.ticket = await this.budget.reserve(this.names);
    this.ordered = true;
  }

  async placed(_orderUrl: string): Promise<void> {}

  async finalizing(_orderUrl: string, _keyPem: string): Promise<void> {
    if (this.ticket) await this.budget.settle(this.ticket, "finalizing");
  }

  failedValidation(name: string): Promise<void> {
    return this.budget.validationFailed(name);
  }

  async abandoned(): Promise<void> {
    if (this.ticket) await this.budget.settle(this.ticket, "abandoned");
    this.ticket = undefined;
  }

  async issued(): Promise<void> {
    if (this.ticket) await this.budget.settle(this.ticket, "issued");
  }
}

/**
 * Also keeps the order in flight in the set's folder (pending-order.json, and the CSR's key
 * before finalizing), so that a stop at any step leaves an order the next start resumes. These
 * writes are best effort: when storage cannot take them the order goes on, it just cannot be
 * resumed after a stop.
 */
class SetJournal extends BudgetJournal {
  private record?: PendingOrder;

  constructor(
    budget: OrderBudget,
    names: string[],
    private readonly storage: Storage,
    private readonly log: Logger,
    private readonly countOrder: () => void,
    private readonly o: { folder: string; reason: OrderReason; replaces?: string; pending?: PendingOrder; now: () => number },
  ) {
    super(budget, names);
    this.record = o.pending;
    this.ticket = o.pending?.ticket;
    this.ordered = o.pending?.orderUrl !== undefined;
  }

  override async placing(): Promise<void> {
    const first = !this.ordered;
    await super.placing();
    if (first) this.countOrder();
    this.record = { ticket: this.ticket!, reason: this.o.reason, replaces: this.o.replaces, at: new Date(this.o.now()).toISOString() };
    await this.keep(SET_FILES.order, JSON.stringify(this.record, null, 2) + "\n", false);
  }

  override async placed(orderUrl: string): Promise<void> {
    this.record = { ...this.record!, orderUrl };
    await this.keep(SET_FILES.order, JSON.stringify(this.record, null, 2) + "\n", false);
  }

  override async finalizing(orderUrl: string, keyPem: string): Promise<void> {
    await super.finalizing(orderUrl, keyPem);
    await this.keep(SET_FILES.orderKey, keyPem, true);
  }

  override async abandoned(): Promise<void> {
    await super.abandoned();
    this.record = undefined;
    for (const f of [SET_FILES.order, SET_FILES.orderKey]) await this.storage.delete(`${this.o.folder}/${f}`).catch(() => undefined);
  }

  private async keep(file: string, data: string, secret: boolean): Promise<void> {
    await this.storage.put(`${this.o.folder}/${file}`, data, { secret }).catch((err: unknown) =>
      this.log.warn(`${this.names.join(", ")}: could not record the order in ${this.storage.describe(`${this.o.folder}/${file}`)} (${(err as Error).message}); it goes on, but is not resumed if padlock stops before it is done`),
    );
  }
}

function label(s: SetState): string {
  return s.set.names.join(", ");
}

function formatDuration(ms: number): string {
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < 3600_000) return `${(ms / 60_000).toFixed(1)} min`;
  if (ms < 86_400_000) return `${(ms / 3600_000).toFixed(1)} h`;
  return `${(ms / 86_400_000).toFixed(1)} d`;
}
