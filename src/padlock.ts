// The running program: config → sites → listeners, and the certificate managers (ACME and the
// internal CA) feeding the listeners' certificate cache.
import { pino } from "pino";
import type { Config } from "./config/schema.js";
import type { Logger } from "./log.js";
import { Edge, type EdgeLimits, type EdgePolicy } from "./server/edge.js";
import { AccessLog, LineBatcher, type LineSink } from "./server/access-log.js";
import { SiteTable } from "./server/site-table.js";
import { buildSite } from "./sites/build-site.js";
import type { SiteRuntime } from "./server/site-runtime.js";
import { Http01Challenges } from "./server/http01-answer.js";
import { TlsAlpn01Challenges } from "./server/tls-alpn-challenge-listener.js";
import { CertificateCache } from "./tls/certificate-cache.js";
import { TrustedProxies } from "./server/client-address.js";
import { startInternalCertificates, type InternalCertificates } from "./tls/internal-certificates.js";
import { ProvidedCertificates } from "./tls/provided-certificates.js";
import type { CertificateTuning } from "./certificates/start-certificates.js";
import type { CertificateManager } from "./certificates/certificate-manager.js";
import { dropPrivileges } from "./system/privileges.js";
import { openStorage, storageDir } from "./storage/open-storage.js";
import type { Storage } from "./storage/storage.js";
import { Operations } from "./operations.js";
import { certificateSource, internalNameSets, providedFiles } from "./config/certificate-source.js";
import { plural } from "./plural.js";
import { readCaRoot, type CaRoot } from "./acme/ca-root.js";
import { SharedTokens } from "./certificates/shared-tokens.js";
import { systemClock } from "./time/clock.js";

export interface PadlockOptions {
  config: Config;
  /** Folder relative paths in the config are resolved against. */
  baseDir: string;
  log: Logger;
  httpPort: number;
  httpsPort?: number;
  listen?: string;
  watch?: boolean;
  /** Scheduler clock, retry policy and randomness of the certificate manager (tests). */
  certificateTuning?: CertificateTuning;
  /** Where access log lines go, each as its request ends (default: standard output, in batches). */
  accessLogSink?: (line: string) => void;
}

/** Longest wait for in-flight requests on shutdown when the config sets none, in seconds. */
const DEFAULT_SHUTDOWN_TIMEOUT_S = 10;
/** How long padlock's own look at a failed challenge URL may take before the failure is logged. */
const OBSERVE_TIMEOUT_MS = 3000;

export class Padlock {
  readonly edge: Edge;
  /** What the HTTPS listener serves, by name: the certificate managers install into it. */
  readonly certificates = new CertificateCache();
  /** HTTP-01 tokens the listener answers; other instances' are read from storage once it is open. */
  readonly challenges: Http01Challenges;
  private readonly tlsAlpnChallenges = new TlsAlpn01Challenges();
  private internalCertificates?: InternalCertificates;
  private providedCertificates?: ProvidedCertificates;
  /** Present when the config names a CA. */
  certificateManager?: CertificateManager;
  /** Status file, alerts, admin socket and metrics. */
  readonly operations: Operations;
  /** Opened after the privilege drop when the config names an ACME CA. */
  private storage?: Storage;
  /** Every certificate source has started: what storage and the sites' files hold is installed. */
  private started = false;
  /** Settles once start-up has opened storage (or found it has none to open). */
  private readonly storageOpened: Promise<void>;
  private markStorageOpened!: () => void;
  /** Stops holding the challenges other instances sharing the storage publish. */
  private stopFollowing?: () => void;
  /** ca_root, read before the privilege drop (a root-only folder is fine) and again when a reload changes it. */
  private caRoot?: CaRoot;
  private readonly accessLog: AccessLog;

  private constructor(
    private sites: SiteRuntime[],
    private config: Config,
    private readonly options: PadlockOptions,
  ) {
    this.storageOpened = new Promise((resolve) => (this.markStorageOpened = resolve));
    // A CA may validate another instance's order through this one: its token is in storage.
    this.challenges = new Http01Challenges({ lookup: (token) => this.sharedToken(token) });
    this.accessLog = accessLogOf(options);
    this.operations = new Operations(config, options.baseDir, options.log, options.certificateTuning?.clock);
    this.edge = new Edge({
      listen: options.listen ?? config.listen,
      httpPort: options.httpPort,
      httpsPort: options.httpsPort,
      sites: tableOf(config, sites),
      challenges: this.challenges,
      tlsAlpnChallenges: this.tlsAlpnChallenges,
      certificates: this.certificates,
      limits: limitsOf(config),
      log: options.log,
      httpMetrics: this.operations.metrics,
      whyNoCertificate: (name, site) => this.whyNoCertificate(name, site),
      ...policyOf(config, this.accessLog),
    });
  }

  static async start(options: PadlockOptions): Promise<Padlock> {
    const { config, log } = options;
    const padlock = new Padlock(await buildSites(config, options), config, options);
    await padlock.edge.start();
    try {
      const folder = storageDir(config, options.baseDir);
      padlock.caRoot = readCaRoot(config, options.baseDir);
      // Read before the privilege drop, as a web server reads its certificates: certbot's keys are root's.
      padlock.providedCertificates = await padlock.startProvided(config);
      dropPrivileges(config.user, folder, log);
      // Opened once, after the privilege drop: opening checks the ownership of everything in it.
      if (config.ca && config.ca !== "internal") await padlock.openStorage(config);
      padlock.markStorageOpened();
      padlock.certificateManager = await padlock.startAcme(config);
      await padlock.operations.serve(padlock.certificateManager);
      if (padlock.edge.httpsPort !== undefined && folder !== undefined) {
        padlock.internalCertificates = await startInternalCertificates(config, padlock.certificates, log, folder, options.certificateTuning?.clock);
      }
    } catch (err) {
      await padlock.close();
      throw err;
    }
    padlock.started = true;
    padlock.logListening(options.listen ?? config.listen);
    return padlock;
  }

  /** Serves and watches the certificates sites bring; none when no site does. */
  private async startProvided(config: Config): Promise<ProvidedCertificates | undefined> {
    const pairs = providedFiles(config, this.options.baseDir);
    if (pairs.length === 0) return undefined;
    const notifier = this.operations.notifier;
    return ProvidedCertificates.start(pairs, {
      cache: this.certificates,
      log: this.options.log,
      clock: this.options.certificateTuning?.clock,
      onExpiring: notifier && ((hosts, problem, fix, notAfter) => notifier.send("expiring", hosts, problem, fix, notAfter)),
    });
  }

  /**
   * Opens the storage an ACME CA's certificates live in; when instances share it (Redis), the
   * challenges the others publish are held from now on, so this one answers the CA for them too.
   */
  private async openStorage(config: Config): Promise<void> {
    const storage = await openStorage(config, this.options.baseDir, this.options.log);
    this.storage = storage;
    this.operations.useStorage(storage);
    if (!storage.watch) return;
    const { followSharedChallenges } = await import("./certificates/shared-challenges.js");
    const tlsAlpn = this.edge.httpsPort !== undefined ? this.tlsAlpnChallenges : undefined;
    this.stopFollowing = await followSharedChallenges(storage, { http01: this.challenges, tlsAlpn }, this.options.log);
  }

  /** A token another instance sharing the storage published; none before storage is open, or without it. */
  private async sharedToken(token: string): Promise<string | undefined> {
    await this.storageOpened;
    return this.storage ? new SharedTokens(this.storage, systemClock).lookup(token) : undefined;
  }

  /** The ACME certificate manager for the config's sites, when it has an ACME CA and sites that want certificates. */
  private async startAcme(config: Config): Promise<CertificateManager | undefined> {
    if (!this.storage) return undefined;
    // Loaded only when needed: the ACME client and its dependencies are a large part of start-up.
    const { startCertificates } = await import("./certificates/start-certificates.js");
    return startCertificates({
      config,
      baseDir: this.options.baseDir,
      storage: this.storage,
      log: this.options.log,
      certificates: this.certificates,
      challenges: this.challenges,
      tlsAlpnChallenges: this.edge.httpsPort !== undefined ? this.tlsAlpnChallenges : undefined,
      observeHttp01: async (name, fetched) => {
        const { observeHttp01 } = await import("./doctor/observe-challenge.js");
        return observeHttp01({ name, fetched, port: this.edge.httpPort ?? 80, challenges: this.challenges, resolver: config.resolver, timeoutMs: OBSERVE_TIMEOUT_MS });
      },
      tuning: this.options.certificateTuning,
      onEvent: this.operations.observe,
      caRoot: this.caRoot,
    });
  }

  /**
   * Switches to a new config without dropping connections: the new sites are built first (a
   * failure leaves the old ones serving), swapped in, and the old ones closed once their requests
   * in flight are done. Certificates are handled as start-up would for what changed: a new site's
   * certificate is obtained, a removed site's is no longer renewed, and a change to how padlock
   * talks to the CA (ca_root, email…) restarts certificate management with it. Every other key
   * that changed is named in the log as taking effect after a restart.
   */
  async reload(config: Config): Promise<void> {
    const { log } = this.options;
    const sites = await buildSites(config, this.options);
    // Certificates sites bring are read before anything changes: a pair that cannot be served rejects the reload.
    const providedChanged = JSON.stringify(providedFiles(config, this.options.baseDir)) !== JSON.stringify(providedFiles(this.config, this.options.baseDir));
    const provided = providedChanged ? await this.startProvided(config).catch(async (err: unknown) => {
      await Promise.all(sites.map((s) => s.close()));
      throw err;
    }) : this.providedCertificates;
    if (providedChanged) {
      this.providedCertificates?.stop();
      this.providedCertificates = provided;
    }
    const old = this.sites;
    this.accessLog.format = config.log?.access ?? "json"; // lines noted so far are written in the old format first
    this.edge.replaceSites(tableOf(config, sites), policyOf(config, this.accessLog));
    this.sites = sites;
    const previous = this.config;
    this.config = config;
    const changed = changedKeys(previous, config);
    for (const key of changed) {
      if (!RELOADED_KEYS.has(key) && !CA_CONNECTION_KEYS.has(key)) log.warn(`config reload: "${key}" changed; it takes effect after a restart (until then padlock keeps the previous value)`);
    }
    await this.reloadCertificates(previous, config, changed.filter((k) => CA_CONNECTION_KEYS.has(k)));
    log.info(`config reloaded: ${plural(sites.length, "site")}`);
    await this.edge.idle(old, shutdownTimeoutMs(previous));
    await Promise.all(old.map((s) => s.close()));
  }

  /** Why a served name has no certificate yet (for the handshake's log line). */
  private whyNoCertificate(name: string, site: SiteRuntime): string | undefined {
    // The listener opens before storage is read, so that HTTP (and ACME's HTTP-01) serve at once.
    if (!this.started && certificateSource(this.config, site.config) !== "none") return "padlock is starting and has not read its certificates yet";
    const acme = this.certificateManager?.whyNoCertificate(name);
    if (acme) return acme;
    if (internalNameSets(this.config).some((set) => set.includes(name))) return "the internal CA's certificate for it is being issued";
    return undefined;
  }

  /** Stops accepting, lets requests in flight finish (up to limits.shutdown_timeout), then closes. */
  async close(): Promise<void> {
    this.markStorageOpened();
    this.internalCertificates?.stop();
    this.providedCertificates?.stop();
    await this.certificateManager?.close();
    await this.operations.close();
    await this.edge.close(shutdownTimeoutMs(this.config));
    await Promise.all(this.sites.map((s) => s.close()));
    this.stopFollowing?.();
    await this.storage?.close?.(); // Redis storage: its connections
    this.accessLog.close();
  }

  private logListening(listen: string | undefined): void {
    const host = !listen || listen === "0.0.0.0" || listen === "::" ? "localhost" : listen.includes(":") ? `[${listen}]` : listen;
    this.options.log.info(`serving http://${host}:${this.edge.httpPort}/`);
    if (this.edge.httpsPort !== undefined) this.options.log.info(`serving https://${host}:${this.edge.httpsPort}/ (HTTPS begins per name once its certificate is installed)`);
  }

  private async reloadCertificates(previous: Config, config: Config, caKeysChanged: string[]): Promise<void> {
    const { log } = this.options;
    // The new sites already serve: a certificate problem is reported, it does not undo the reload.
    try {
      if (JSON.stringify(internalNameSets(previous)) !== JSON.stringify(internalNameSets(config)) && this.edge.httpsPort !== undefined) {
        log.info("config reload: names served by the internal CA changed; issuing their certificates");
        this.internalCertificates?.stop();
        this.internalCertificates = undefined;
        const folder = storageDir(config, this.options.baseDir);
        if (folder !== undefined) this.internalCertificates = await startInternalCertificates(config, this.certificates, log, folder, this.options.certificateTuning?.clock);
      }
      if (previous.storage !== config.storage) return; // said by reload: after a restart
      // ca_root is read again whatever changed: a reload is how a fixed root file is picked up.
      const caRoot = config.ca_root ? readCaRoot(config, this.options.baseDir) : undefined;
      if (caRoot?.error) return log.error(`config reload: ca_root: ${caRoot.error}; certificate management keeps its previous settings`);
      const restartFor = caRoot?.pem !== this.caRoot?.pem && !caKeysChanged.includes("ca_root") ? [...caKeysChanged, "ca_root"] : caKeysChanged;
      if (restartFor.length > 0) {
        log.info(`config reload: ${restartFor.map((k) => `"${k}"`).join(", ")} changed; certificate management restarts with the new settings (installed certificates keep being served)`);
        await this.certificateManager?.close();
        this.certificateManager = undefined;
        this.caRoot = caRoot;
      } else if (JSON.stringify(certificateSettings(previous)) === JSON.stringify(certificateSettings(config))) {
        return;
      }
      if (this.certificateManager) {
        const { certificateNameSets } = await import("./certificates/start-certificates.js");
        return await this.certificateManager.update(certificateNameSets(config, this.options.baseDir, this.options.certificateTuning));
      }
      if (!this.storage && config.ca && config.ca !== "internal") {
        await this.openStorage(config);
      }
      this.certificateManager = await this.startAcme(config);
      if (this.certificateManager) await this.operations.serveCertificates(this.certificateManager);
    } catch (err) {
      log.error(`config reload: certificates for the new config could not be started: ${(err as Error).message}; fix it and send SIGHUP again, or restart`);
    }
  }
}

/** What a reload applies by itself; the keys of CA_CONNECTION_KEYS restart certificate management. */
const RELOADED_KEYS: ReadonlySet<string> = new Set(["$schema", "sites", "unknown_host", "redirect_status", "trusted_proxies", "log"]);
const CA_CONNECTION_KEYS: ReadonlySet<string> = new Set(["ca", "ca_root", "email", "accept_terms", "eab", "staging_rehearsal", "staging", "order_budget", "resolver"]);

/** Top-level keys whose value differs between two configs. */
function changedKeys(a: Config, b: Config): string[] {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]) as Set<keyof Config>;
  return [...keys].filter((k) => JSON.stringify(a[k]) !== JSON.stringify(b[k]));
}

function certificateSettings(config: Config): unknown {
  return config.sites.map((s) => [s.hosts, s.tls]);
}

/** One access log for the process's life: a reload changes its format, not the log. */
function accessLogOf(options: PadlockOptions): AccessLog {
  const format = options.config.log?.access ?? "json";
  const capture = options.accessLogSink;
  if (capture) return new AccessLog(format, { write: capture, flush: () => {} }, { batch: 1 });
  return new AccessLog(format, standardOutputSink());
}

/**
 * Standard output, one write per 64 KiB of log (or per second) instead of one per request.
 * Handed over as bytes: given a string, sonic-boom measures and encodes it twice more.
 */
function standardOutputSink(): LineSink {
  const out = pino.destination({ dest: 1, sync: false, contentMode: "buffer" });
  // sonic-boom's type definitions know only write(string); in buffer mode it takes bytes.
  const lines = new LineBatcher(out.write.bind(out) as unknown as (bytes: Buffer) => boolean);
  return {
    write: (line) => lines.write(line),
    flush: () => lines.flush(),
    end: () => {
      lines.flush();
      out.flushSync();
    },
  };
}

function policyOf(config: Config, accessLog: AccessLog): EdgePolicy {
  return {
    unknownHostStatus: config.unknown_host,
    redirectStatus: config.redirect_status,
    trustedProxies: new TrustedProxies(config.trusted_proxies),
    accessLog,
  };
}

function limitsOf(config: Config): EdgeLimits {
  const l = config.limits ?? {};
  const ms = (s: number | undefined) => (s === undefined ? undefined : s * 1000);
  return {
    headerSize: l.header_size,
    headerCount: l.header_count,
    headersTimeoutMs: ms(l.headers_timeout),
    requestTimeoutMs: ms(l.request_timeout),
    idleTimeoutMs: ms(l.idle_timeout),
    h2MaxStreams: l.h2_max_streams,
  };
}

function shutdownTimeoutMs(config: Config): number {
  return (config.limits?.shutdown_timeout ?? DEFAULT_SHUTDOWN_TIMEOUT_S) * 1000;
}

/** Builds every site, or none: when one fails, those already built are closed again. */
async function buildSites(config: Config, options: PadlockOptions): Promise<SiteRuntime[]> {
  const results = await Promise.allSettled(config.sites.map((site) => buildSite(site, { baseDir: options.baseDir, log: options.log, watch: options.watch })));
  const failure = results.find((r) => r.status === "rejected");
  if (!failure) return results.map((r) => (r as PromiseFulfilledResult<SiteRuntime>).value);
  await Promise.all(results.map((r) => (r.status === "fulfilled" ? r.value.close() : undefined)));
  throw failure.reason;
}

function tableOf(config: Config, sites: SiteRuntime[]): SiteTable<SiteRuntime> {
  return new SiteTable(sites.map((site, i) => ({ hosts: site.hosts, site, isDefault: config.sites[i]!.default === true })));
}

