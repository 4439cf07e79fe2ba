// Keeps one certificate per name set installed and fresh. Per set: a stored certificate is
// installed at once; a missing or due one is ordered under a storage lock (so instances sharing
// storage order once), stored, installed for the next handshake, and its renewal scheduled.
// Failures keep the current certificate and retry with backoff. One log line per step.
import type { Observation } from "./problem-catalogue.js";
import { createHash } from "node:crypto";
import type { Logger } from "../log.js";
import type { Storage } from "../storage/storage.js";
import type { CertificateCache } from "../tls/certificate-cache.js";
import { covers, readCertificate, type CertificateInfo } from "../tls/certificate-info.js";
import { AcmeAccount } from "./account.js";
import type { CertificateEvent, CertificateObserver } from "./certificate-events.js";
import { caId as caIdOf, CaSetupError, fetchDirectory, profileProblem, type AcmeDirectory, type CaChoice } from "./ca-directory.js";
import { CaTransport } from "./ca-transport.js";
import type { Http01Challenges } from "./http01-challenges.js";
import { Dns01Solver } from "./dns01-solver.js";
import type { Dns01Provider } from "./dns01/provider.js";
import { Http01Solver } from "./http01-solver.js";
import type { TlsAlpn01Challenges } from "./tls-alpn01-challenges.js";
import { TlsAlpn01Solver } from "./tls-alpn01-solver.js";
import { Issuer, type ChallengeSolver, type ChallengeType, type IssueStep, type KeyType } from "./issuer.js";
import { AcmeProblem } from "./problems.js";
import { DEFAULT_CHALLENGES } from "./dns01/challenge-settings.js";
import {
  DEFAULT_RETRY,
  fetchRenewalInfo,
  lifetimeRenewalTime,
  planFromWindow,
  retryDelay,
  runAt,
  systemClock,
  type Clock,
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
  observeHttp01?: (name: string) => Promise<Observation[]>;
  sets: NameSet[];
  log: Logger;
  clock?: Clock;
  retry?: RetryPolicy;
  random?: () => number;
  /** How often to ask the CA's ARI again when it gives no Retry-After (default 6 h). */
  ariRecheckMs?: number;
  /** Told of installs, plans, failures, revocations and CA requests (status file, alerts, metrics). */
  onEvent?: CertificateObserver;
}

interface StoredCertificate {
  chainPem: string;
  keyPem: string;
  info: CertificateInfo;
  meta: CertificateMeta;
}

interface CertificateMeta {
  names: string[];
  ca: string;
  keyType: KeyType;
  profile?: string;
  serial: string;
  notBefore: string;
  notAfter: string;
  ariId?: string;
  replaces?: string;
  orderUrl?: string;
  issuedAt: string;
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
}

interface SetState {
  set: Required<Pick<NameSet, "names" | "keyType" | "challenges">> & Pick<NameSet, "profile">;
  /** Solvers only this set uses (its DNS-01 provider). */
  solvers: Dns01Solver[];
  folder: string;
  current?: StoredCertificate;
  plan?: RenewalPlan;
  nextRetry?: Date;
  failures: number;
  lastError?: string;
  /** The first issuance was rehearsed against staging successfully (not again before production). */
  rehearsed?: boolean;
  /** Clock time this process installed a certificate it had just ordered. */
  issuedAt?: number;
  running?: Promise<void>;
  cancelTimers: (() => void)[];
}

type RefreshMode = "check" | "scheduled" | "forced";

interface Connection {
  /** Its own per directory: a CA's nonces are no good at another. */
  transport: CaTransport;
  directory: AcmeDirectory;
  account: AcmeAccount;
  issuer: Issuer;
}

const DEFAULT_ARI_RECHECK_MS = 6 * 3600_000;

export class CertificateManager {
  private readonly transport: CaTransport;
  private readonly solvers: ChallengeSolver[];
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly caId: string;
  private readonly states: SetState[];
  /** By directory URL: the CA, and its staging directory when rehearsing. */
  private readonly connections = new Map<string, Promise<Connection>>();
  private closed = false;
  /** Orders placed by this process (for tests and `padlock certs`). */
  ordersPlaced = 0;

  constructor(private readonly o: CertificateManagerOptions) {
    // Created first: from now on this instance also answers challenges other instances sharing
    // the storage published, even before its own CA connection is up.
    this.solvers = [new Http01Solver(o.challenges, o.storage)];
    if (o.tlsAlpnChallenges) this.solvers.push(new TlsAlpn01Solver(o.tlsAlpnChallenges));
    this.transport = new CaTransport({ extraRoot: o.caRoot, observe: (outcome) => this.emit({ type: "ca-request", outcome }) });
    this.clock = o.clock ?? systemClock;
    this.random = o.random ?? Math.random;
    this.caId = caIdOf(o.ca.directoryUrl);
    this.states = o.sets.map((s) => ({
      set: { names: s.names, keyType: s.keyType ?? "ecdsa-p256", profile: s.profile, challenges: s.challenges ?? DEFAULT_CHALLENGES },
      solvers: s.dns01 ? [new Dns01Solver(s.dns01, o.log, s.names.join(", "))] : [],
      folder: `certificates/${this.caId}/${folderName(s.names)}`,
      failures: 0,
      cancelTimers: [],
    }));
  }

  /**
   * Installs stored certificates, then checks the CA (a directory that is not ACME or terms not
   * accepted stop start-up: retrying would not help) and starts ordering what is missing in the
   * background. A CA that cannot be reached is retried with backoff, HTTP keeps serving.
   */
  async start(): Promise<void> {
    await Promise.all(this.states.map((s) => this.loadStored(s)));
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
    for (const s of this.states) {
      if (s.current) this.schedule(s);
      else {
        this.o.log.info(`${label(s)}: no certificate yet; HTTPS for these names starts as soon as one is issued (HTTP keeps serving meanwhile)`);
        void this.refresh(s, "check");
      }
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const s of this.states) this.cancel(s);
    // DNS-01 work in flight ends now, its records removed, instead of running to its timeouts.
    for (const s of this.states) for (const solver of s.solvers) solver.abandon();
    await Promise.allSettled(this.states.map((s) => s.running));
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
    }));
  }

  /** Renew now: `force` orders even when the certificate is not due. Resolves when done. */
  async renew(names: string[], options: { force?: boolean } = {}): Promise<void> {
    const s = this.stateOf(names);
    // An attempt already under way was started for another reason: let it end, then start ours.
    while (s.running) await s.running;
    await this.refresh(s, options.force ? "forced" : "check");
    if (s.lastError && s.failures > 0) throw new Error(s.lastError);
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
    await this.renew(s.set.names, { force: true });
  }

  private stateOf(names: string[]): SetState {
    const s = this.states.find((st) => names.every((n) => st.set.names.includes(n)));
    if (!s) throw new Error(`no managed certificate covers ${names.join(", ")}`);
    return s;
  }

  private emit(event: CertificateEvent): void {
    this.o.onEvent?.(event);
  }

  /**
   * One attempt to make the set's certificate fresh; never throws, schedules what comes next.
   * "scheduled" (the renewal time came) and "forced" order a new certificate unless another
   * instance sharing the storage has just stored one; "check" orders only when missing or due.
   */
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
    const before = s.current?.info.serial;
    const lock = await this.o.storage.lock(`${this.caId}-${s.folder.split("/").pop()}`);
    try {
      // Another instance sharing the storage may have just done the work.
      const stored = await this.readStored(s);
      if (stored && stored.info.serial !== before && this.usable(s, stored) && !this.isDue(stored)) {
        this.install(s, stored, "stored by another instance");
        return;
      }
      if (mode === "check" && s.current && !this.isDue(s.current, s.plan) && s.current.info.serial === stored?.info.serial) return;
      if (this.o.rehearsal && !s.current && !stored && !s.rehearsed) await this.rehearse(s, this.o.rehearsal);
      const conn = await this.connect();
      const problem = profileProblem(conn.directory, this.o.ca.directoryUrl, s.set.profile);
      if (problem) throw new CaSetupError(problem);
      const replaces = conn.directory.renewalInfo ? s.current?.info.ariId : undefined;
      const started = performance.now();
      this.ordersPlaced++;
      const issued = await conn.issuer.issue({
        names: s.set.names,
        keyType: s.set.keyType,
        profile: s.set.profile,
        replaces,
        challenges: s.set.challenges,
        solvers: s.solvers,
        onStep: (step) => this.logStep(s, step, this.o.ca),
      });
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
      };
      // Key first: a crash between the writes leaves the old pair or a new key nobody uses yet.
      await this.o.storage.put(`${s.folder}/key.pem`, issued.keyPem, { secret: true });
      await this.o.storage.put(`${s.folder}/cert.pem`, issued.chainPem);
      await this.o.storage.put(`${s.folder}/meta.json`, JSON.stringify(meta, null, 2) + "\n");
      s.issuedAt = this.clock.now();
      this.install(s, { chainPem: issued.chainPem, keyPem: issued.keyPem, info, meta }, `issued in ${((performance.now() - started) / 1000).toFixed(2)} s`);
    } finally {
      await lock.release();
    }
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
      await conn.issuer.issue({
        names: s.set.names,
        keyType: s.set.keyType,
        challenges: s.set.challenges,
        solvers: s.solvers,
        onStep: (step) => this.logStep(s, step, staging),
      });
    } catch (err) {
      log.warn(`${label(s)}: the rehearsal against the staging directory ${staging.directoryUrl} failed; the production directory ${this.o.ca.directoryUrl} was not asked`);
      throw err;
    }
    s.rehearsed = true;
    log.info(`${label(s)}: the rehearsal against the staging directory ${staging.directoryUrl} passed; ordering from the production directory ${this.o.ca.directoryUrl}`);
  }

  private failed(s: SetState, err: unknown): void {
    s.failures++;
    const message = err instanceof Error ? err.message : String(err);
    s.lastError = message;
    const retryAfterMs = err instanceof AcmeProblem && err.retryAfter ? err.retryAfter.getTime() - this.clock.now() : undefined;
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
    if (err instanceof Error && !(err instanceof AcmeProblem) && !(err.name === "CaUnreachable") && !(err instanceof CaSetupError)) {
      this.o.log.debug({ err }, "failure details");
    }
    const current = s.current && { serial: s.current.info.serial, notBefore: s.current.info.notBefore, notAfter: s.current.info.notAfter };
    this.emit({ type: "failed", names: s.set.names, folder: s.folder, message, error: err, failures: s.failures, nextRetry: s.nextRetry, current });
    if (!this.closed) s.cancelTimers.push(runAt(this.clock, s.nextRetry.getTime(), () => void this.refresh(s, "check")));
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
    if (this.closed || !s.current) return;
    this.cancel(s);
    const cert = s.current;
    const lifetimePlan: RenewalPlan = { at: lifetimeRenewalTime(cert.info.notBefore, cert.info.notAfter, this.random), reason: "lifetime" };
    const apply = (proposed: RenewalPlan, recheckAt?: Date) => {
      if (s.current !== cert || this.closed) return;
      this.cancel(s);
      const plan = this.notTooSoon(s, proposed);
      s.plan = plan;
      this.emit({ type: "planned", names: s.set.names, folder: s.folder, plan });
      const where = plan.reason === "ari" ? `inside the CA's ARI window ${plan.window!.start.toISOString()} – ${plan.window!.end.toISOString()}` : "at 2/3 of its lifetime";
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
    const at = planFromWindow(info.window, previous?.reason === "ari" ? previous.at : undefined, this.random);
    const recheckAt = info.recheckAt ?? new Date(now + (this.o.ariRecheckMs ?? DEFAULT_ARI_RECHECK_MS));
    return { plan: { at, reason: "ari", window: info.window }, recheckAt };
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

  private async loadStored(s: SetState): Promise<void> {
    const stored = await this.readStored(s);
    if (!stored) return;
    if (!this.usable(s, stored)) {
      this.o.log.info(`${label(s)}: the stored certificate does not match the config (names, key type or profile changed); ordering a new one`);
      return;
    }
    if (stored.info.notAfter.getTime() <= this.clock.now()) {
      this.o.log.warn(`${label(s)}: the stored certificate expired on ${stored.info.notAfter.toISOString()}; ordering a new one`);
      return;
    }
    this.install(s, stored, "from storage");
  }

  private async readStored(s: SetState): Promise<StoredCertificate | undefined> {
    const [chain, key, meta] = await Promise.all(["cert.pem", "key.pem", "meta.json"].map((f) => this.o.storage.get(`${s.folder}/${f}`)));
    if (!chain || !key || !meta) return undefined;
    try {
      const chainPem = chain.toString("utf8");
      return { chainPem, keyPem: key.toString("utf8"), info: readCertificate(chainPem), meta: JSON.parse(meta.toString("utf8")) as CertificateMeta };
    } catch (err) {
      this.o.log.warn(`${label(s)}: the stored certificate in ${this.o.storage.location}/${s.folder} is unreadable (${(err as Error).message}); ordering a new one`);
      return undefined;
    }
  }

  private connect(directoryUrl = this.o.ca.directoryUrl): Promise<Connection> {
    let connection = this.connections.get(directoryUrl);
    if (connection) return connection;
    const caId = caIdOf(directoryUrl);
    const transport = directoryUrl === this.o.ca.directoryUrl ? this.transport : new CaTransport({ extraRoot: this.o.caRoot, observe: (outcome) => this.emit({ type: "ca-request", outcome }) });
    connection = (async () => {
      const directory = await fetchDirectory(transport, directoryUrl);
      const lock = await this.o.storage.lock(`account-${caId}`);
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
        });
        return { transport, directory, account, issuer: new Issuer(account, this.solvers, this.o.observeHttp01) };
      } finally {
        await lock.release();
      }
    })();
    this.connections.set(directoryUrl, connection);
    connection.catch(() => {
      this.connections.delete(directoryUrl);
      if (transport !== this.transport) void transport.close();
    });
    return connection;
  }

  private logStep(s: SetState, step: IssueStep, ca: CaChoice): void {
    const log = this.o.log;
    switch (step.step) {
      case "ordering":
        log.info(
          `${label(s)}: ordering a certificate from ${ca.label}${ca.label !== ca.directoryUrl ? ` (${ca.directoryUrl})` : ""}${step.profile ? ` (profile ${step.profile})` : ""}${step.replaces ? ` replacing ${step.replaces}` : ""}`,
        );
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

}

function label(s: SetState): string {
  return s.set.names.join(", ");
}

/** The storage folder of a name set: readable, stable for the same set, different for another. */
export function folderName(names: string[]): string {
  const primary = names[0]!.replace(/^\*\./, "_wildcard_.").replace(/[^a-z0-9._-]/gi, "_");
  if (names.length === 1) return primary;
  const hash = createHash("sha256").update([...names].sort().join("\n")).digest("hex").slice(0, 10);
  return `${primary}+${names.length - 1}-${hash}`;
}

function formatDuration(ms: number): string {
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < 3600_000) return `${(ms / 60_000).toFixed(1)} min`;
  return `${(ms / 3600_000).toFixed(1)} h`;
}
