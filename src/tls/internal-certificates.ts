// Keeps certificates from the internal CA installed for the names that get them (localhost,
// loopback addresses, sites marked internal): issued at start, renewed at 2/3 of their life,
// retried with capped backoff on failure while the current certificate keeps being served.
import { internalNameSets } from "./internal-ca-choice.js";
import type { Config, Site } from "../config/schema.js";
import type { Logger } from "../log.js";
import type { CertificateCache } from "./certificate-cache.js";
import type { IssuedCertificate } from "./internal-ca.js";
import { InternalCaError } from "./internal-ca-error.js";
import { FolderKeyFileStore } from "./key-files.js";
import { lastThirdStart } from "../acme/renewal.js";

const RETRY_FIRST_MS = 60_000;
const RETRY_MAX_MS = 60 * 60_000;


export interface InternalCertificatesOptions {
  /** The internal CA (or anything that issues the same way). */
  issuer: { issue(names: string[]): Promise<IssuedCertificate> };
  cache: CertificateCache;
  log: Logger;
  nameSets: string[][];
  /** First retry delay after a failed renewal (doubled each time, at most an hour). */
  retryFirstMs?: number;
}

export class InternalCertificates {
  private readonly timers = new Set<NodeJS.Timeout>();
  private stopped = false;

  private readonly retryFirstMs: number;

  constructor(private readonly options: InternalCertificatesOptions) {
    this.retryFirstMs = options.retryFirstMs ?? RETRY_FIRST_MS;
  }

  /** Issues and installs a certificate for every name set; resolves once all are installed. */
  async start(): Promise<void> {
    await Promise.all(this.options.nameSets.map((names) => this.renew(names, this.retryFirstMs, true)));
  }

  stop(): void {
    this.stopped = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }

  private async renew(names: string[], retryMs: number, first: boolean): Promise<void> {
    if (this.stopped) return;
    const { log } = this.options;
    try {
      const issuedAt = Date.now(); // not notBefore, which is backdated for clock skew
      const issued = await this.options.issuer.issue(names);
      this.options.cache.install(issued.keyPem, issued.chainPem, names, issued.notAfter);
      const renewAt = new Date(lastThirdStart(new Date(issuedAt), issued.notAfter));
      log.info(`internal CA: certificate for ${names.join(", ")} installed, valid until ${issued.notAfter.toISOString()}, renewal at ${renewAt.toISOString()}`);
      this.schedule(() => this.renew(names, this.retryFirstMs, false), renewAt.getTime() - Date.now());
    } catch (err) {
      if (first) throw err;
      log.warn(`internal CA: renewing the certificate for ${names.join(", ")} failed (${(err as Error).message}); the current one is still served; retrying in ${Math.round(retryMs / 1000)} s`);
      this.schedule(() => this.renew(names, Math.min(retryMs * 2, RETRY_MAX_MS), false), retryMs);
    }
  }

  private schedule(task: () => Promise<void>, delayMs: number): void {
    if (this.stopped) return;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      void task();
    }, Math.max(0, delayMs));
    timer.unref();
    this.timers.add(timer);
  }
}

/** Opens the internal CA in the storage folder and keeps the config's internal names served, if it has any. */
export async function startInternalCertificates(config: Config, cache: CertificateCache, log: Logger, storageDir: string): Promise<InternalCertificates | undefined> {
  const nameSets = internalNameSets(config);
  if (nameSets.length === 0) return undefined;
  // Loaded only when a site uses it: the certificate library behind it is slow to load.
  const { InternalCa, internalCaFolder } = await import("./internal-ca.js");
  const folder = internalCaFolder(storageDir);
  const ca = await InternalCa.open(new FolderKeyFileStore(folder)).catch((err: NodeJS.ErrnoException) => {
    if (err.code === "EACCES" || err.code === "EPERM" || err.code === "EROFS") {
      throw new InternalCaError(
        `cannot keep padlock's internal CA in ${folder} (${err.code} on ${err.path ?? folder}): make the storage folder writable by the user padlock runs as, e.g. sudo chown -R "$(id -un)" ${storageDir}`,
      );
    }
    throw err;
  });
  const keeper = new InternalCertificates({ issuer: ca, cache, log, nameSets });
  await keeper.start();
  log.info(`internal CA: root certificate at ${ca.rootCertificatePath}; to make browsers trust it: padlock trust --install`);
  return keeper;
}
