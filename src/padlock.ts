// The running program: config → sites → listeners (and, when a CA is configured, the
// certificate manager feeding the listeners' certificate cache).
import type { Config } from "./config/schema.js";
import type { Logger } from "./log.js";
import { Edge } from "./server/edge.js";
import { SiteTable } from "./server/site-table.js";
import { buildSite } from "./sites/build-site.js";
import type { SiteRuntime } from "./sites/site-runtime.js";
import { Http01Challenges } from "./acme/http01-challenges.js";
import { CertificateCache } from "./tls/certificate-cache.js";
import type { CertificateTuning } from "./acme/start-certificates.js";
import type { CertificateManager } from "./acme/manager.js";
import { dropPrivileges } from "./system/privileges.js";
import { storageDir } from "./storage/open-storage.js";

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
}

export class Padlock {
  private constructor(
    readonly edge: Edge,
    private sites: SiteRuntime[],
    readonly certificates: CertificateCache,
    readonly challenges: Http01Challenges,
    private readonly log: Logger,
    /** Present when the config names a CA. */
    readonly certificateManager?: CertificateManager,
  ) {}

  static async start(options: PadlockOptions): Promise<Padlock> {
    const { config, log } = options;
    const sites = await buildSites(config, options);
    const certificates = new CertificateCache();
    const challenges = new Http01Challenges();
    if (config.ca) challenges.expectFallback();
    const edge = new Edge({
      listen: options.listen ?? config.listen,
      httpPort: options.httpPort,
      httpsPort: options.httpsPort,
      sites: tableOf(config, sites),
      challenges,
      certificates,
      unknownHostStatus: config.unknown_host,
      redirectStatus: config.redirect_status,
      log,
    });
    await edge.start();
    try {
      dropPrivileges(config.user, storageDir(config, options.baseDir), log);
      // Loaded only when needed: the ACME client and its dependencies are a large part of start-up.
      const manager = config.ca
        ? await (await import("./acme/start-certificates.js")).startCertificates({ config, baseDir: options.baseDir, log, certificates, challenges, tuning: options.certificateTuning })
        : undefined;
      // Nothing to share tokens through after all (no site wants a certificate): stop waiting.
      if (!manager) challenges.setFallback(async () => undefined);
      const padlock = new Padlock(edge, sites, certificates, challenges, log, manager);
      padlock.logListening(options.listen ?? config.listen);
      return padlock;
    } catch (err) {
      await edge.close();
      await Promise.all(sites.map((s) => s.close()));
      throw err;
    }
  }

  async close(): Promise<void> {
    await this.certificateManager?.close();
    await this.edge.close();
    await Promise.all(this.sites.map((s) => s.close()));
  }

  private logListening(listen: string | undefined): void {
    const host = !listen || listen === "0.0.0.0" || listen === "::" ? "localhost" : listen.includes(":") ? `[${listen}]` : listen;
    this.log.info(`serving http://${host}:${this.edge.httpPort}/`);
    if (this.edge.httpsPort !== undefined) this.log.info(`serving https://${host}:${this.edge.httpsPort}/ (HTTPS begins per name once its certificate is installed)`);
  }
}

async function buildSites(config: Config, options: PadlockOptions): Promise<SiteRuntime[]> {
  return Promise.all(config.sites.map((site) => buildSite(site, { baseDir: options.baseDir, log: options.log, watch: options.watch })));
}

function tableOf(config: Config, sites: SiteRuntime[]): SiteTable<SiteRuntime> {
  return new SiteTable(sites.map((site, i) => ({ hosts: site.hosts, site, isDefault: config.sites[i]!.default ?? config.sites.length === 1 })));
}
