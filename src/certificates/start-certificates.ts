// From config to a running certificate manager: which CA, which name sets (one per site whose
// certificate comes from the ACME CA), which storage; and the wiring of a manager, its store and
// its CA connections, which the library does from its own options.
import { CaSetupError } from "../acme/ca-directory.js";
import { readCaRoot, type CaRoot } from "../acme/ca-root.js";
import { createDns01Provider, type Dns01Tuning } from "../acme/dns01/from-config.js";
import { CaConnections } from "../acme/ca-connections.js";
import { Http01Solver, type Http01Board } from "../acme/http01-solver.js";
import type { ChallengeSolver } from "../acme/issuer.js";
import type { BudgetSettings } from "../acme/order-budget.js";
import type { CaFetch, Observation } from "../acme/problem-catalogue.js";
import { TlsAlpn01Solver, type TlsAlpnBoard } from "../acme/tls-alpn01-solver.js";
import { allowedChallenges, certificateSource, chooseCa, stagingOf, type CaChoice } from "../config/certificate-source.js";
import type { Config } from "../config/schema.js";
import type { Logger } from "../log.js";
import type { Storage } from "../storage/storage.js";
import { systemClock, type Clock } from "../time/clock.js";
import type { RetryPolicy } from "../time/renewal-timing.js";
import type { CertificateCache } from "../tls/certificate-cache.js";
import { CertificateManager, type NameSet } from "./certificate-manager.js";
import { CertificateStore } from "./certificate-store.js";
import type { CertificateObserver } from "./events.js";

export interface CertificateTuning {
  clock?: Clock;
  retry?: RetryPolicy;
  /** Delays between attempts to store a certificate served from memory. */
  saveRetry?: RetryPolicy;
  random?: () => number;
  ariRecheckMs?: number;
  /** DNS-01 hook timeout and propagation polling (tests: short; name servers on their own port). */
  dns01?: Dns01Tuning;
}

export interface StartCertificatesOptions {
  config: Config;
  baseDir: string;
  storage: Storage;
  log: Logger;
  certificates: CertificateCache;
  challenges: Http01Board;
  tlsAlpnChallenges?: TlsAlpnBoard;
  /** What padlock itself sees at a name's HTTP-01 URL when a validation fails (for the message). */
  observeHttp01?: (name: string, fetched: CaFetch | undefined) => Promise<Observation[]>;
  tuning?: CertificateTuning;
  onEvent?: CertificateObserver;
  /** ca_root as read at start, before the privilege drop (read here when absent). */
  caRoot?: CaRoot;
}

/** The name sets a config wants certificates for from its ACME CA: one per site. */
export function certificateNameSets(config: Config, baseDir: string, tuning?: CertificateTuning): NameSet[] {
  const sets: NameSet[] = [];
  config.sites.forEach((site, i) => {
    if (certificateSource(config, site) !== "acme") return;
    const dns = site.tls?.dns;
    sets.push({
      names: site.hosts,
      keyType: site.tls?.key_type,
      profile: site.tls?.profile,
      challenges: allowedChallenges(site),
      dns01: dns ? createDns01Provider(dns, { configKey: `sites[${i}].tls.dns`, baseDir, resolver: config.resolver, tuning: tuning?.dns01 }) : undefined,
      settings: JSON.stringify([site.tls?.key_type, site.tls?.profile, allowedChallenges(site), dns]),
    });
  });
  return sets;
}

/**
 * The staging directory first issuances are rehearsed against: `staging:`, else the one padlock
 * knows for the CA (Let's Encrypt's). None when staging_rehearsal is false; when it is true and
 * none is known, the log says so instead of silently going straight to the CA.
 */
function rehearsalCa(config: Config, ca: CaChoice, log: Logger): CaChoice | undefined {
  if (config.staging_rehearsal === false) return undefined;
  const staging = config.staging ? chooseCa(config.staging) : stagingOf(ca);
  if (!staging && config.staging_rehearsal === true) {
    log.warn(`staging_rehearsal: true, but padlock knows no staging directory for ${ca.label}: first issuances go to it directly, without a rehearsal. Set staging: <the staging directory's URL> to rehearse against one.`);
  }
  return staging;
}

export async function startCertificates(o: StartCertificatesOptions): Promise<CertificateManager | undefined> {
  const { config, log, storage } = o;
  if (!config.ca || config.ca === "internal") return undefined; // the caller opens storage only for an ACME CA
  const ca = chooseCa(config.ca);
  if (!ca) throw new CaSetupError(`unknown CA "${config.ca}"`);
  const sets = certificateNameSets(config, o.baseDir, o.tuning);
  if (sets.length === 0) return undefined;
  const caRoot = o.caRoot ?? readCaRoot(config, o.baseDir);
  if (caRoot?.error) throw new CaSetupError(`ca_root: ${caRoot.error}`);
  const staging = rehearsalCa(config, ca, log);
  log.info(`certificates: CA ${ca.label}, storage ${storage.location}${staging ? `; first issuances are rehearsed against ${staging.directoryUrl}` : ""}`);
  const manager = createCertificateManager({ ...o, ca, rehearsal: staging, caRoot: caRoot?.pem, email: config.email, acceptTerms: config.accept_terms, eab: config.eab, budget: config.order_budget, sets });
  try {
    await manager.start();
  } catch (err) {
    await manager.close();
    throw err;
  }
  return manager;
}

export interface CertificateSetup {
  ca: CaChoice;
  rehearsal?: CaChoice;
  /** PEM of an extra root trusted for the CA's API. */
  caRoot?: string;
  email?: string;
  acceptTerms?: boolean;
  eab?: { kid: string; hmac_key: string };
  budget?: BudgetSettings;
  storage: Storage;
  log: Logger;
  certificates: CertificateCache;
  challenges: Http01Board;
  tlsAlpnChallenges?: TlsAlpnBoard;
  observeHttp01?: (name: string, fetched: CaFetch | undefined) => Promise<Observation[]>;
  sets: NameSet[];
  tuning?: CertificateTuning;
  onEvent?: CertificateObserver;
}

/** A certificate manager with its store and CA connections, not started yet. */
export function createCertificateManager(o: CertificateSetup): CertificateManager {
  const { log } = o;
  const clock = o.tuning?.clock ?? systemClock;
  const store = new CertificateStore(o.storage, log, clock);
  // From now on this instance also answers challenges other instances sharing the storage
  // publish, even before its own CA connection is up.
  const solvers: ChallengeSolver[] = [new Http01Solver(o.challenges, store.tokens, (err) => log.warn(`could not share an HTTP-01 token through storage (${(err as Error).message}); this instance answers the CA itself`))];
  if (o.tlsAlpnChallenges) solvers.push(new TlsAlpn01Solver(o.tlsAlpnChallenges, store.tokens.tlsAlpn, (err) => log.warn(`could not share a TLS-ALPN-01 challenge through storage (${(err as Error).message}); this instance answers the CA itself`)));
  const connections = new CaConnections({
    ca: o.ca,
    rehearsal: o.rehearsal,
    caRoot: o.caRoot,
    email: o.email,
    acceptTerms: o.acceptTerms,
    eab: o.eab,
    budget: o.budget,
    solvers,
    observeHttp01: o.observeHttp01,
    storeFor: (directoryUrl) => ({ account: store.account(directoryUrl), ledger: store.ledger(directoryUrl) }),
    clock,
    log,
    observe: (outcome) => o.onEvent?.({ type: "ca-request", outcome }),
  });
  return new CertificateManager({
    ca: o.ca,
    rehearsal: o.rehearsal,
    connections,
    store,
    certificates: o.certificates,
    sets: o.sets,
    log,
    onEvent: o.onEvent,
    clock,
    retry: o.tuning?.retry,
    saveRetry: o.tuning?.saveRetry,
    random: o.tuning?.random,
    ariRecheckMs: o.tuning?.ariRecheckMs,
  });
}
