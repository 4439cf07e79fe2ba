// Certificates a site brings (`tls: { certificate, key }`, from a company CA or another ACME
// client): read and checked as a pair, installed for the site's names, and watched. When either
// file changes the new pair replaces the old for the next handshakes (connections open keep
// theirs); a pair caught half-written, whose key does not match its certificate yet, is not
// installed, and padlock waits for the other file. padlock never orders for these sites; it warns
// when a certificate enters the last third of its life, as it would for its own.
import { createPrivateKey, X509Certificate, type KeyObject } from "node:crypto";
import { watch, type FSWatcher } from "node:fs";
import { readFile } from "node:fs/promises";
import { isIP } from "node:net";
import path from "node:path";
import type { ProvidedFiles } from "../config/certificate-source.js";
import { PadlockError } from "../errors.js";
import type { Logger } from "../log.js";
import { runAt, systemClock, type Clock } from "../time/clock.js";
import { lastThirdStart } from "../time/renewal-timing.js";
import type { CertificateCache } from "./certificate-cache.js";

export interface ProvidedPair {
  certPem: string;
  keyPem: string;
  serial: string;
  notBefore: Date;
  notAfter: Date;
  /** The site's names the certificate does not cover. */
  uncovered: string[];
}

/** Why a pair cannot be served, in words that name the file. */
export class ProvidedPairError extends PadlockError {
  constructor(message: string) {
    super("CERTIFICATE_FILES", message);
  }
}

/** How long a pair may stay unmatched after a change before padlock says so (a deploy writes one file, then the other). */
const SETTLE_MS = 10_000;
/** Files are also read this often, for changes the watcher did not report (network file systems, a replaced folder). */
const POLL_MS = 30_000;
/** Changes come in bursts (a write, a rename, a chmod): read once they stop. */
const DEBOUNCE_MS = 100;

/** Reads the two files and checks they make a pair padlock can serve for these names. */
export async function readProvidedPair(files: ProvidedFiles): Promise<ProvidedPair> {
  const [certPem, keyPem] = await Promise.all([readPem(files.certificate, "certificate"), readPem(files.key, "key")]);
  let leaf: X509Certificate;
  try {
    leaf = new X509Certificate(certPem);
  } catch (err) {
    throw new ProvidedPairError(`${files.certificate} holds no PEM certificate padlock can read (${(err as Error).message}); it should start with -----BEGIN CERTIFICATE-----, the site's certificate first, then its chain`);
  }
  let key: KeyObject;
  try {
    key = createPrivateKey(keyPem);
  } catch (err) {
    throw new ProvidedPairError(`${files.key} holds no PEM private key padlock can read (${(err as Error).message}); it should be unencrypted, starting with -----BEGIN PRIVATE KEY----- (or EC/RSA PRIVATE KEY)`);
  }
  if (!leaf.checkPrivateKey(key)) {
    throw new ProvidedPairError(`${files.key} is not the key of the certificate in ${files.certificate} (serial ${leaf.serialNumber}); put the matching key there, or the matching certificate first in ${path.basename(files.certificate)}`);
  }
  // A wildcard host is covered by a certificate that covers any name it stands for.
  const covers = (host: string) => (isIP(host) ? leaf.checkIP(host) !== undefined : leaf.checkHost(host.replace(/^\*\./, "padlock-wildcard-check.")) !== undefined);
  const uncovered = files.hosts.filter((host) => !covers(host));
  return { certPem, keyPem, serial: leaf.serialNumber, notBefore: new Date(leaf.validFrom), notAfter: new Date(leaf.validTo), uncovered };
}

async function readPem(file: string, what: string): Promise<string> {
  try {
    return await readFile(file, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "EACCES" || code === "EPERM") {
      const user = process.getuid?.() === 0 ? "root" : `user ${process.getuid?.()}`;
      throw new ProvidedPairError(`cannot read the ${what} file ${file} as ${user} (${code}): let padlock's user read it, e.g. chgrp padlock ${file} && chmod g+r ${file} (and g+x on the folders above it)`);
    }
    throw new ProvidedPairError(code === "ENOENT" ? `the ${what} file ${file} does not exist` : `cannot read the ${what} file ${file} (${(err as Error).message})`);
  }
}

interface Watched {
  files: ProvidedFiles;
  installed: ProvidedPair;
  watchers: FSWatcher[];
  debounce?: NodeJS.Timeout;
  cancelRecheck: () => void;
  /** Since when the files on disk have not made a servable pair, and whether that was said. */
  unsettledSince?: number;
  saidProblem?: string;
  cancelExpiryWarning: () => void;
}

export interface ProvidedCertificatesOptions {
  cache: CertificateCache;
  log: Logger;
  clock?: Clock;
  /** Told when a certificate enters the last third of its life (alerts). */
  onExpiring?: (hosts: string[], problem: string, fix: string, notAfter: Date) => void;
}

export class ProvidedCertificates {
  private readonly watched: Watched[] = [];
  private readonly clock: Clock;
  private poll?: () => void;
  private stopped = false;

  constructor(private readonly options: ProvidedCertificatesOptions) {
    this.clock = options.clock ?? systemClock;
  }

  /**
   * Reads every pair (throwing the first that cannot be served: at start-up and reload that is a
   * config problem), installs them and starts watching.
   */
  static async start(pairs: ProvidedFiles[], options: ProvidedCertificatesOptions): Promise<ProvidedCertificates> {
    const read = await Promise.all(
      pairs.map((files) =>
        readProvidedPair(files).catch((err: unknown) => {
          throw new ProvidedPairError(`${files.at}: ${(err as Error).message}`);
        }),
      ),
    );
    const keeper = new ProvidedCertificates(options);
    pairs.forEach((files, i) => keeper.keep(files, read[i]!));
    if (pairs.length > 0) keeper.schedulePoll();
    return keeper;
  }

  stop(): void {
    this.stopped = true;
    this.poll?.();
    for (const w of this.watched) {
      for (const watcher of w.watchers) watcher.close();
      clearTimeout(w.debounce);
      w.cancelRecheck();
      w.cancelExpiryWarning();
    }
    this.watched.length = 0;
  }

  /** Reads every pair again now (what a change or the periodic check does). */
  async checkAll(): Promise<void> {
    await Promise.all(this.watched.map((w) => this.check(w)));
  }

  private keep(files: ProvidedFiles, pair: ProvidedPair): void {
    const w: Watched = { files, installed: pair, watchers: [], cancelRecheck: () => undefined, cancelExpiryWarning: () => undefined };
    this.install(w, pair, "installed");
    // The folders are watched, not the files: an editor or a deploy replaces a file by renaming
    // another over it, and certbot swaps symlinks, which a watch on the old file would never see.
    for (const dir of new Set([path.dirname(files.certificate), path.dirname(files.key)])) {
      try {
        const watcher = watch(dir, { persistent: false }, () => this.changed(w));
        watcher.on("error", () => watcher.close()); // the periodic check carries on
        w.watchers.push(watcher);
      } catch (err) {
        this.options.log.warn(`${files.at}: cannot watch ${dir} for changes (${(err as Error).message}); padlock checks the files every ${POLL_MS / 1000} s instead`);
      }
    }
    this.watched.push(w);
  }

  private changed(w: Watched): void {
    clearTimeout(w.debounce);
    w.debounce = setTimeout(() => void this.check(w), DEBOUNCE_MS);
  }

  private async check(w: Watched): Promise<void> {
    if (this.stopped) return;
    const { log } = this.options;
    let pair: ProvidedPair;
    try {
      pair = await readProvidedPair(w.files);
    } catch (err) {
      if (this.stopped) return;
      const message = (err as Error).message;
      // A deploy writes the key, then the certificate: said only if it lasts, and once per problem.
      const since = (w.unsettledSince ??= this.clock.now());
      const waited = this.clock.now() - since;
      if (waited < SETTLE_MS) {
        log.debug(`${w.files.at}: the files do not make a pair yet (${message}); waiting for the other file`);
        w.cancelRecheck();
        w.cancelRecheck = runAt(this.clock, since + SETTLE_MS, () => void this.check(w));
      } else if (w.saidProblem !== message) {
        w.saidProblem = message;
        log.error(`${w.files.at}: the files no longer make a certificate padlock can serve: ${message}; still serving the previous one (serial ${w.installed.serial}, valid until ${w.installed.notAfter.toISOString()}) until they do`);
      }
      return;
    }
    if (this.stopped) return;
    w.cancelRecheck();
    w.unsettledSince = undefined;
    w.saidProblem = undefined;
    if (pair.certPem === w.installed.certPem && pair.keyPem === w.installed.keyPem) return;
    this.install(w, pair, "replaced");
  }

  private install(w: Watched, pair: ProvidedPair, how: "installed" | "replaced"): void {
    const { cache, log } = this.options;
    const { files } = w;
    w.installed = pair;
    cache.install(pair.keyPem, pair.certPem, files.hosts, pair.notAfter);
    log.info(`${files.hosts.join(", ")}: ${how} the certificate from ${files.certificate} (serial ${pair.serial}), valid until ${pair.notAfter.toISOString()}; padlock does not renew it`);
    if (pair.uncovered.length > 0) {
      log.warn(`${files.at}: the certificate in ${files.certificate} does not cover ${pair.uncovered.join(", ")}, so browsers will refuse HTTPS for ${pair.uncovered.length === 1 ? "it" : "them"}: use a certificate that names every host of the site, or move ${pair.uncovered.length === 1 ? "that host" : "those hosts"} to another site`);
    }
    if (pair.notAfter.getTime() <= this.clock.now()) log.error(`${files.at}: the certificate in ${files.certificate} expired ${pair.notAfter.toISOString()}; browsers refuse it: replace it with a current one`);
    w.cancelExpiryWarning();
    w.cancelExpiryWarning = runAt(this.clock, lastThirdStart(pair.notBefore, pair.notAfter), () => this.expiring(w, pair));
  }

  private expiring(w: Watched, pair: ProvidedPair): void {
    if (this.stopped || w.installed !== pair || this.clock.now() >= pair.notAfter.getTime()) return;
    const problem = `the certificate from ${w.files.certificate} (serial ${pair.serial}) has entered the last third of its life; it expires ${pair.notAfter.toISOString()}`;
    const fix = `renew it where it comes from and write the new certificate and key over ${w.files.certificate} and ${w.files.key}: padlock picks them up within seconds`;
    this.options.log.warn(`${w.files.hosts.join(", ")}: ${problem}; ${fix}`);
    this.options.onExpiring?.(w.files.hosts, problem, fix, pair.notAfter);
  }

  private schedulePoll(): void {
    if (this.stopped) return;
    this.poll = runAt(this.clock, this.clock.now() + POLL_MS, () => {
      void this.checkAll().finally(() => this.schedulePoll());
    });
  }
}
