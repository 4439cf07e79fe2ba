// Keeps one certificate per name set installed and fresh, by running each set's life: the stored
// certificate installed at once; an order when one is missing, damaged or due, under the set's
// storage lock (so instances sharing storage order once), resumed rather than placed again after a
// stop; the new certificate installed the moment it is issued, then stored; failures retried with
// backoff while the current certificate keeps being served. It decides nothing else: where files
// live and how a folder is repaired is the store's business, the CA the connections', when to act
// the planner's, placing an order the ordering's, storing what is served from memory the
// unsaved certificate's. One log line per step; every renewal says why.
import type { CaConnections } from "../acme/ca-connections.js";
import { CaSetupError, profileProblem } from "../acme/ca-directory.js";
import { Dns01Solver } from "../acme/dns01-solver.js";
import type { Dns01Provider } from "../acme/dns01/provider.js";
import { BudgetSpent } from "../acme/order-budget.js";
import { AcmeProblem } from "../acme/problems.js";
import { DEFAULT_CHALLENGES, type CaChoice } from "../config/certificate-source.js";
import type { ChallengeType, KeyType } from "../config/schema.js";
import { PadlockError } from "../errors.js";
import type { Logger } from "../log.js";
import { RepeatLimitedLog } from "../repeat-limited-log.js";
import { runAt, systemClock, type Clock } from "../time/clock.js";
import { formatDuration, type RetryPolicy } from "../time/renewal-timing.js";
import { Turns } from "../time/turns.js";
import type { CertificateCache } from "../tls/certificate-cache.js";
import { covers } from "../tls/certificate-info.js";
import type { CertificateStore } from "./certificate-store.js";
import type { CertificateEvent, CertificateObserver } from "./events.js";
import { Ordering, type SetToOrder } from "./ordering.js";
import { RenewalPlanner, type OrderReason, type RefreshMode, type RenewalPlan } from "./renewal-planner.js";
import { setKey } from "./store-layout.js";
import { storedCertificate, type PendingOrder, type StoredCertificate } from "./stored-set.js";
import { UnsavedCertificate } from "./unsaved-certificate.js";

export interface NameSet {
  names: string[];
  keyType?: KeyType;
  profile?: string;
  challenges?: readonly ChallengeType[];
  /** Publishes this set's DNS-01 TXT records (the site's tls.dns). */
  dns01?: Dns01Provider;
  /** The site's tls settings as written: a reload that changes them replaces the set's certificate. */
  settings?: string;
}

export interface CertificateManagerOptions {
  ca: CaChoice;
  /** A staging CA: the first issuance of each name set is tried there before `ca` is asked. */
  rehearsal?: CaChoice;
  /** The CA (and the staging CA): directories, accounts, issuers, order budgets. The manager closes them. */
  connections: CaConnections;
  store: CertificateStore;
  /** Where installed certificates go (the HTTPS listener serves from it). */
  certificates: CertificateCache;
  sets: NameSet[];
  log: Logger;
  clock?: Clock;
  retry?: RetryPolicy;
  /** Delays between attempts to store a certificate served from memory meanwhile. */
  saveRetry?: RetryPolicy;
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
  set: SetToOrder & Pick<NameSet, "settings">;
  /** The names sorted: the same set in any order. */
  key: string;
  /** Solvers only this set uses (its DNS-01 provider). */
  dns01: Dns01Solver[];
  current?: StoredCertificate;
  /** Issued and installed, not yet in storage: written again with backoff until it is. */
  unsaved: UnsavedCertificate;
  plan?: RenewalPlan;
  nextRetry?: Date;
  failures: number;
  lastError?: string;
  /** The error of the last failed attempt, as thrown. */
  lastFailure?: unknown;
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

export class CertificateManager {
  private readonly connections: CaConnections;
  private readonly planner: RenewalPlanner;
  private readonly ordering: Ordering;
  private readonly store: CertificateStore;
  private readonly clock: Clock;
  private readonly random: () => number;
  private states: SetState[];
  private closed = false;
  private stopWatching?: () => void;
  /** A CA whose renewal information fails, fails for every set at once: one line a minute per cause. */
  private readonly ariLog: RepeatLimitedLog;

  constructor(private readonly o: CertificateManagerOptions) {
    this.store = o.store;
    this.connections = o.connections;
    this.clock = o.clock ?? systemClock;
    this.ariLog = new RepeatLimitedLog(o.log, 60_000, this.clock);
    this.random = o.random ?? Math.random;
    this.planner = new RenewalPlanner({ clock: this.clock, random: this.random, retry: o.retry, ariRecheckMs: o.ariRecheckMs, renewalInfo: (ariId) => this.connections.renewalInfo(ariId) });
    this.ordering = new Ordering({ connections: this.connections, store: o.store, ca: o.ca, log: o.log, clock: this.clock });
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
    // The CA's directory and the account, wanted by the first order, are fetched while the stored sets load.
    const connected = this.connections.connect().then(
      ({ directory }) => ({ directory }),
      (err: unknown) => ({ err }),
    );
    await this.store.tokens.removeLeftovers(this.o.log).catch((err: unknown) => this.o.log.warn(`could not look for challenge files left behind: ${(err as Error).message}`));
    await this.followStoredSets();
    const folders = await this.folders();
    await this.loadAll(this.states, folders);
    const connection = await connected;
    if ("err" in connection) {
      if (connection.err instanceof CaSetupError) throw connection.err;
      // Unreachable: each set's first attempt reports it and schedules its retry.
    } else {
      for (const s of this.states) {
        const problem = profileProblem(connection.directory, this.o.ca.directoryUrl, s.set.profile);
        if (problem) throw new CaSetupError(`${label(s)}: ${problem}`);
      }
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
        log.info(`config reload: names changed from [${label(gone)}] to [${label(successor)}]: ordering a certificate for the new set; the old one is no longer renewed (its files stay in ${this.store.describe(gone.set.folder)})`);
      } else {
        log.info(`config reload: ${label(gone)}: no longer in the config; its certificate is no longer renewed (its files stay in ${this.store.describe(gone.set.folder)})`);
      }
    }
    for (const a of added) if (!renamed.has(a)) log.info(`config reload: ${label(a)}: new in the config; obtaining its certificate as at start-up`);
    this.states = next;
    await this.add(added);
  }

  /**
   * Manages one more name set (a name an application asked for while running), as start-up
   * would; resolves once its certificate is installed, or throws why the first attempt failed.
   */
  async obtain(set: NameSet): Promise<void> {
    const key = setKey(set.names);
    let s = this.states.find((st) => st.key === key);
    if (!s) {
      s = this.newState(set);
      this.states = [...this.states, s];
      await this.add([s]);
    }
    while (!s.current) {
      if (this.closed || s.dropped) throw new PadlockError("STOPPED", `${label(s)}: certificate management stopped before a certificate was obtained`);
      if (s.running) await s.running;
      else if (s.lastFailure !== undefined) throw s.lastFailure;
      else await this.refresh(s, "check");
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    this.stopWatching?.();
    for (const s of this.states) {
      this.cancel(s);
      s.unsaved.stop();
    }
    // DNS-01 work in flight ends now, its records removed, instead of running to its timeouts.
    for (const s of this.states) for (const solver of s.dns01) solver.abandon();
    await Promise.allSettled(this.states.map((s) => s.running));
    await Promise.allSettled(this.states.map((s) => s.unsaved.lastTry()));
    await this.connections.close();
  }

  status(): NameSetStatus[] {
    return this.states.map((s) => ({
      names: s.set.names,
      folder: s.set.folder,
      serial: s.current?.info.serial,
      notBefore: s.current?.info.notBefore,
      notAfter: s.current?.info.notAfter,
      nextRenewal: s.plan,
      nextRetry: s.nextRetry,
      failures: s.failures,
      lastError: s.lastError,
      lastOrder: s.lastOrder,
      unsaved: s.unsaved.cert !== undefined,
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

  /** Renew now: `force` orders even when the certificate is not due. Resolves when done; throws why it failed. */
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
    if (!current) throw new PadlockError("NO_CERTIFICATE", `${label(s)}: there is no certificate to revoke yet`);
    const { account } = await this.connections.connect();
    await account.revoke(current.chainPem, reason.code);
    this.o.log.warn({ names: s.set.names, serial: current.info.serial, reason: reason.name }, `${label(s)}: revoked certificate ${current.info.serial} (${reason.name}); ordering a replacement`);
    this.emit({ type: "revoked", names: s.set.names, folder: s.set.folder, serial: current.info.serial, reason: reason.name });
    await this.refreshNow(s, "revoked");
  }

  private async refreshNow(s: SetState, mode: RefreshMode): Promise<void> {
    // An attempt already under way was started for another reason: let it end, then start ours.
    while (s.running) await s.running;
    await this.refresh(s, mode);
    if (s.lastFailure !== undefined && s.failures > 0) throw s.lastFailure;
  }

  private stateOf(names: string[]): SetState {
    const s = this.states.find((st) => names.every((n) => st.set.names.includes(n)));
    if (!s) throw new PadlockError("NAME_NOT_MANAGED", `no managed certificate covers ${names.join(", ")}`);
    return s;
  }

  private newState(s: NameSet): SetState {
    const dns01 = s.dns01 ? [new Dns01Solver(s.dns01, this.o.log, s.names.join(", "), this.store.tokens.dns01)] : [];
    const folder = this.store.setFolder(this.o.ca.directoryUrl, s.names);
    const { store, clock, random } = this;
    const log = this.o.log;
    return {
      set: { names: s.names, keyType: s.keyType ?? "ecdsa-p256", profile: s.profile, challenges: s.challenges ?? DEFAULT_CHALLENGES, settings: s.settings, folder, solvers: dns01 },
      key: setKey(s.names),
      dns01,
      unsaved: new UnsavedCertificate({ store, directoryUrl: this.o.ca.directoryUrl, folder, names: s.names, log, clock, random, retry: this.o.saveRetry }),
      failures: 0,
      cancelTimers: [],
    };
  }

  private async add(added: SetState[]): Promise<void> {
    const folders = await this.folders();
    await this.loadAll(added, folders);
    for (const s of added) this.begin(s);
  }

  private emit(event: CertificateEvent): void {
    this.o.onEvent?.(event);
  }

  /** The set folders under this CA's folder, by name set. */
  private folders(): Promise<Map<string, string[]>> {
    return this.store.foldersByNameSet(this.o.ca.directoryUrl).catch((err: unknown) => {
      this.o.log.warn(`could not list ${this.store.certificatesOf(this.o.ca.directoryUrl)}: ${(err as Error).message}`);
      return new Map<string, string[]>();
    });
  }

  /** Reads sets 16 at a time: thousands together held every reply and parse in memory at once (a peak kept as resident memory), for no gain in time. */
  private async loadAll(states: SetState[], folders: Map<string, string[]>): Promise<void> {
    const turns = new Turns(16);
    await Promise.all(states.map((s) => turns.run(() => this.load(s, folders))));
  }

  /**
   * Installs the set's stored certificate when it is sound, usable and current, without the
   * lock (start-up must not wait for another instance's order); anything else is left for
   * obtain(), which looks again under the lock.
   */
  private async load(s: SetState, folders: Map<string, string[]>): Promise<void> {
    if ((folders.get(s.key) ?? []).some((f) => f !== s.set.folder)) s.untidy = true;
    try {
      if (await this.store.hasPendingOrder(s.set.folder)) s.untidy = true;
      const contents = await this.store.readSet(s.set.folder);
      if (contents.kind !== "ok") {
        if (contents.kind !== "none") s.untidy = true;
        return;
      }
      if (!contents.meta) s.untidy = true;
      this.installStored(s, storedCertificate(contents, s.set, this.o.ca.directoryUrl), "from storage");
    } catch (err) {
      this.o.log.warn(`${label(s)}: could not read ${this.store.describe(s.set.folder)} (${(err as Error).message}); trying again under the lock`);
      s.untidy = true;
    }
  }

  private begin(s: SetState): void {
    if (!s.current) this.o.log.info(`${label(s)}: no certificate yet; HTTPS for these names starts as soon as one is issued (HTTP keeps serving meanwhile)`);
    if (s.current && !s.untidy) this.schedule(s);
    else void this.refresh(s, "check");
  }

  /**
   * Storage shared by instances (Redis) tells of changes: a certificate another instance stored
   * is installed at once, not at the next renewal. When changes may have been missed (the
   * connection came back), every set is looked at again and a certificate still only in memory
   * is written now.
   */
  private async followStoredSets(): Promise<void> {
    this.stopWatching = await this.store.watchSets(this.o.ca.directoryUrl, (folder) => {
      for (const s of this.states) if (folder === undefined || folder === s.set.folder) this.reloadSoon(s, folder === undefined);
    });
  }

  /** One reload at a time per set; a change heard meanwhile reads storage once more after it. */
  private reloadSoon(s: SetState, missed: boolean): void {
    if (missed && s.unsaved.cert && !this.closed) void s.unsaved.save(false);
    if (s.reloading) {
      s.reloadAgain = true;
      return;
    }
    s.reloading = this.reloadStored(s)
      .catch((err: unknown) => this.o.log.warn(`${label(s)}: could not read ${this.store.describe(s.set.folder)} after another instance changed it (${(err as Error).message}); it is read again under the lock at the next renewal`))
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
    // An attempt under way reads storage under the lock itself; a certificate not yet stored is newer.
    if (this.closed || s.dropped || s.running || s.unsaved.cert) return;
    const contents = await this.store.readSet(s.set.folder);
    // Half-way through another instance's switch (the meta.json of the new pair comes last): the next message tells.
    if (contents.kind !== "ok" || !contents.meta || contents.info.serial === s.current?.info.serial) return;
    if (s.current && contents.info.notBefore < s.current.info.notBefore) return;
    if (this.installStored(s, storedCertificate(contents, s.set, this.o.ca.directoryUrl), "stored by another instance")) this.schedule(s);
  }

  /** One attempt to make the set's certificate fresh; never throws, schedules what comes next. */
  private refresh(s: SetState, mode: RefreshMode): Promise<void> {
    if (s.running) return s.running;
    this.cancel(s);
    s.running = this.obtainFresh(s, mode)
      .then(() => {
        s.failures = 0;
        s.lastError = undefined;
        s.lastFailure = undefined;
        s.nextRetry = undefined;
        this.schedule(s);
      })
      .catch((err: unknown) => this.failed(s, err))
      .finally(() => {
        s.running = undefined;
      });
    return s.running;
  }

  private async obtainFresh(s: SetState, mode: RefreshMode): Promise<void> {
    const lock = await this.store.lockSet(this.o.ca.directoryUrl, s.set.folder, label(s));
    try {
      // Another instance sharing the storage may have just done the work.
      if (await this.tidy(s)) return;
      const pending = await this.pendingOrder(s);
      const reason = pending?.order.reason ?? this.planner.reasonToOrder(mode, s.current && { info: s.current.info, usable: this.usable(s, s.current) }, s.keyDamaged === true, s.plan);
      if (reason) await this.order(s, reason, pending);
    } finally {
      await lock.release().catch((err: unknown) => this.o.log.warn(`${label(s)}: could not release its lock (${(err as Error).message}); it is taken over when next needed`));
    }
  }

  /**
   * Under the set's lock, has the store bring the set's folder in order; a certificate served from
   * memory replaces damaged files. Installs a stored certificate newer than the one served; true
   * when that one needs no renewal.
   */
  private async tidy(s: SetState): Promise<boolean> {
    const damagedAction = s.current ? `storing certificate ${s.current.info.serial}, which padlock serves from memory, in its place` : "ordering a new certificate (renewal reason: key-damaged)";
    const found = await this.store.tidySet(this.o.ca.directoryUrl, s.set.folder, s.set, damagedAction);
    s.untidy = false;
    if (found.kind === "damaged") {
      if (s.current) {
        s.unsaved.cert ??= s.current;
        await s.unsaved.save(true);
      } else {
        s.keyDamaged = true;
      }
    }
    if (found.kind !== "ok") return false;
    // A certificate issued here and not yet stored is newer than anything in storage.
    if (s.unsaved.cert || found.cert.info.serial === s.current?.info.serial) return false;
    return this.installStored(s, found.cert, s.current ? "stored by another instance" : "from storage") && !this.planner.isDue(found.cert.info);
  }

  /** Installs a stored certificate that fits the config and has not expired; says why not otherwise. */
  private installStored(s: SetState, cert: StoredCertificate, how: string): boolean {
    if (s.passedOver === cert.info.serial) return false;
    s.passedOver = cert.info.serial;
    if (!this.usable(s, cert)) {
      this.o.log.info(`${label(s)}: the stored certificate does not match the config (names, key type or profile changed); ordering a new one`);
      return false;
    }
    if (this.planner.expired(cert.info)) {
      this.o.log.warn(`${label(s)}: the stored certificate expired on ${cert.info.notAfter.toISOString()}; ordering a new one`);
      return false;
    }
    s.passedOver = undefined;
    this.install(s, cert, how);
    return true;
  }

  /** An order a stopped process left (pending-order.json), to resume; undefined when there is none. */
  private pendingOrder(s: SetState): Promise<{ order: PendingOrder; keyPem?: string } | undefined> {
    return this.store.pendingOrder(s.set.folder, s.current?.meta.orderUrl);
  }

  private async order(s: SetState, reason: OrderReason, pending?: { order: PendingOrder; keyPem?: string }): Promise<void> {
    const rehearsal = this.o.rehearsal;
    if (rehearsal && reason === "new" && !s.current && !pending && !s.rehearsed) {
      await this.ordering.rehearse(s.set, rehearsal);
      s.rehearsed = true;
    }
    const { cert, seconds, settle } = await this.ordering.order(s.set, reason, { current: s.current, pending, onFailed: () => this.ordered(s, reason, "failed") });
    // Served first: whatever happens to storage from here on, the certificate is not lost.
    s.issuedAt = this.clock.now();
    s.keyDamaged = false;
    s.unsaved.cert = cert;
    this.install(s, cert, `issued in ${seconds.toFixed(2)} s${reason === "new" ? "" : `; renewal reason: ${reason}`}`);
    this.ordered(s, reason, "issued");
    await settle();
    await s.unsaved.save(true);
  }

  private ordered(s: SetState, reason: OrderReason, outcome: "issued" | "failed"): void {
    const at = new Date(this.clock.now());
    s.lastOrder = { at, reason, outcome };
    this.emit({ type: "ordered", names: s.set.names, folder: s.set.folder, reason, outcome, at });
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
    s.lastFailure = err;
    const delay = this.planner.retryDelay(s.failures, err, s.current?.info);
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
    this.emit({ type: "failed", names: s.set.names, folder: s.set.folder, message, error: err, failures: s.failures, nextRetry: s.nextRetry, current });
    if (!this.closed && !s.dropped) s.cancelTimers.push(runAt(this.clock, s.nextRetry.getTime(), () => void this.refresh(s, "check")));
  }

  private install(s: SetState, cert: StoredCertificate, how: string): void {
    this.o.certificates.install(cert.keyPem, cert.chainPem, s.set.names, cert.info.notAfter, cert.meta.keyType);
    s.current = cert;
    s.plan = undefined;
    this.o.log.info(
      { names: s.set.names, serial: cert.info.serial, notAfter: cert.info.notAfter.toISOString() },
      `${label(s)}: installed certificate ${cert.info.serial} (${how}), valid until ${cert.info.notAfter.toISOString()}`,
    );
    this.emit({ type: "installed", names: s.set.names, folder: s.set.folder, serial: cert.info.serial, notBefore: cert.info.notBefore, notAfter: cert.info.notAfter, how });
  }

  /** Plans the next renewal of the current certificate: ARI window if offered, else 2/3 of its life. */
  private schedule(s: SetState): void {
    if (this.closed || s.dropped || !s.current) return;
    this.cancel(s);
    const cert = s.current;
    const lifetimePlan = this.planner.lifetimePlan(cert.info);
    const apply = (proposed: RenewalPlan, recheckAt?: Date) => {
      if (s.current !== cert || this.closed || s.dropped) return;
      this.cancel(s);
      const { plan, postponed } = this.planner.notTooSoon(proposed, cert.info, s.issuedAt);
      if (postponed) {
        this.o.log.warn(`${label(s)}: the certificate just issued would be due for renewal already (is this machine's clock right? it says ${new Date(this.clock.now()).toISOString()}); waiting until ${plan.at.toISOString()}`);
      }
      s.plan = plan;
      this.emit({ type: "planned", names: s.set.names, folder: s.set.folder, plan });
      const where = plan.reason === "ari-window" ? `inside the CA's ARI window ${plan.window!.start.toISOString()} – ${plan.window!.end.toISOString()}` : "at 2/3 of its lifetime";
      this.o.log.info({ names: s.set.names, renewAt: plan.at.toISOString(), reason: plan.reason }, `${label(s)}: next renewal ${plan.at.toISOString()} (${where})`);
      s.cancelTimers.push(runAt(this.clock, plan.at.getTime(), () => void this.refresh(s, "scheduled")));
      if (recheckAt && recheckAt < plan.at) s.cancelTimers.push(runAt(this.clock, recheckAt.getTime(), () => this.schedule(s)));
    };
    if (!cert.info.ariId) return apply(lifetimePlan);
    this.planner.ariPlan(cert.info, s.plan).then(
      (ari) => apply(ari?.plan ?? lifetimePlan, ari?.recheckAt),
      (err: unknown) => {
        const why = (err as Error).message;
        this.ariLog.warn(`ari-unavailable ${why}`, { names: s.set.names }, `${label(s)}: the CA's renewal information (ARI) is unavailable (${why}); falling back to 2/3 of the lifetime`);
        apply(lifetimePlan, this.planner.ariRecheck());
      },
    );
  }

  /** A stored certificate counts only if it is for this set, key type and profile. */
  private usable(s: SetState, c: StoredCertificate): boolean {
    return covers(c.info.names, s.set.names) && c.meta.keyType === s.set.keyType && (c.meta.profile ?? undefined) === s.set.profile;
  }

  private cancel(s: SetState): void {
    for (const c of s.cancelTimers.splice(0)) c();
  }

  private drop(s: SetState): void {
    s.dropped = true;
    this.cancel(s);
  }
}

function label(s: SetState): string {
  return s.set.names.join(", ");
}
