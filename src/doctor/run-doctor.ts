// Runs every pre-flight check for a config, in the order a person would fix things: the
// config, the CA, storage, ports, then each host name (DNS, CDN, CAA, canary round-trip).
import { storageDir, storageSpec } from "../storage/open-storage.js";
import { parseRedisUrl } from "../storage/redis-settings.js";
import { checkRedisStorage } from "./checks/redis-storage.js";
import { allowedChallenges, certificateSource, providedFiles } from "../config/certificate-source.js";
import path from "node:path";
import { isIP } from "node:net";
import type { Config, Site } from "../config/schema.js";
import { caTargetOf, type CaTarget } from "./ca-target.js";
import { readCaRoot } from "../acme/ca-root.js";
import { fetchDirectory, type DirectoryFetch } from "./ca-directory.js";
import { fail, ok, type CheckResult } from "./check-result.js";
import { createDnsLookup, resolveAddresses, ResolverSpecError, type DnsLookup, type ResolvedAddresses } from "./dns.js";
import { localAddresses } from "./local-addresses.js";
import { checkConfigValid } from "./checks/config-valid.js";
import { checkCaDirectory, checkCaRoot } from "./checks/ca-directory.js";
import { checkClockSkew } from "./checks/clock-skew.js";
import { checkStorage } from "./checks/storage.js";
import { checkExistingCertificates, checkStoredCertificates } from "./checks/certificates.js";
import { checkProvidedCertificates } from "./checks/provided.js";
import { checkPort, type PortState } from "./checks/ports.js";
import { checkHostName } from "./checks/host-name.js";
import { checkDnsAddresses } from "./checks/dns-addresses.js";
import { checkCdnRanges } from "./checks/cdn-ranges.js";
import { checkCaa } from "./checks/caa.js";
import { runCanary } from "./checks/canary.js";
import { checkDns01 } from "./checks/dns01.js";

export interface DoctorOptions {
  configFile: string;
  /** DNS server(s) to ask, "HOST:PORT[,…]"; default PADLOCK_RESOLVER, else the system's. */
  resolver?: string;
  /** Override the config's http_port / https_port (default 80 / 443). */
  httpPort?: number;
  httpsPort?: number;
  /** Per network operation (default 10 s). */
  timeoutMs?: number;
}

export interface DoctorReport {
  results: CheckResult[];
  failed: number;
  warned: number;
}

export async function runDoctor(options: DoctorOptions): Promise<DoctorReport> {
  const { result: configResult, config } = checkConfigValid(options.configFile);
  const results = [configResult];
  if (config) results.push(...(await checkEverythingElse(config, options)));
  return {
    results,
    failed: results.filter((r) => r.status === "fail").length,
    warned: results.filter((r) => r.status === "warn").length,
  };
}

interface Settings {
  config: Config;
  baseDir: string;
  timeoutMs: number;
  httpPort: number;
  httpsPort: number;
  resolver?: string;
}

async function checkEverythingElse(config: Config, options: DoctorOptions): Promise<CheckResult[]> {
  const settings: Settings = {
    config,
    baseDir: path.dirname(path.resolve(options.configFile)),
    timeoutMs: options.timeoutMs ?? 10_000,
    httpPort: options.httpPort ?? config.http_port ?? 80,
    httpsPort: options.httpsPort ?? config.https_port ?? 443,
    resolver: options.resolver ?? process.env.PADLOCK_RESOLVER ?? config.resolver,
  };
  const ca = caTargetOf(config);
  const http = await checkPort("HTTP", settings.httpPort, config.listen, settings.timeoutMs, config.sites[0]?.hosts.find((h) => !h.startsWith("*.")));
  const provided = await checkProvidedCertificates(providedFiles(config, settings.baseDir));
  if (!ca) return [ok("CA", provided.length ? "no ca: in the config; the sites that bring their own certificates serve HTTPS, the others plain HTTP" : "no ca: in the config, so padlock serves plain HTTP and gets no certificates"), ...provided, http.result];

  const { results: caResults, identities } = await caChecks(ca, settings);
  const folder = storageDir(config, settings.baseDir);
  const storageResults = folder === undefined
    ? await redisChecks(config, settings.baseDir, ca.directoryUrl)
    : [...checkStorage({ dir: folder, user: config.user }), ...(ca.directoryUrl ? await checkExistingCertificates(folder, ca.directoryUrl) : [])];
  const https = await checkPort("HTTPS", settings.httpsPort, config.listen, settings.timeoutMs);
  const names = certificateNames(config, ca.directoryUrl !== undefined);
  // padlock's internal CA validates nothing: only the names themselves matter.
  const nameResults = ca.directoryUrl
    ? await validationChecks(names, ca, identities, http.state, settings)
    : names.map((n) => checkHostName(n.name, ca, n.challenges));
  const dns01Results = ca.directoryUrl ? await dns01Checks(config, settings) : [];
  return [...caResults, ...storageResults, ...provided, http.result, https.result, ...nameResults, ...dns01Results];
}

/** Redis storage: connection, permissions, change messages, latency, then the certificates it holds. */
async function redisChecks(config: Config, baseDir: string, directoryUrl: string | undefined): Promise<CheckResult[]> {
  let settings;
  try {
    settings = parseRedisUrl(storageSpec(config), baseDir);
  } catch (err) {
    return [fail("storage", (err as Error).message, "correct storage: in the config")];
  }
  const { results, storage } = await checkRedisStorage(settings);
  try {
    return [...results, ...(storage && directoryUrl ? await checkStoredCertificates(storage, directoryUrl) : [])];
  } finally {
    await storage?.close();
  }
}

/** Each site that proves control through DNS-01: its provider, update permission and name servers. */
async function dns01Checks(config: Config, settings: Settings): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  for (const [i, site] of config.sites.entries()) {
    const dns = site.tls?.dns;
    if (!dns || certificateSource(config, site) !== "acme" || !allowedChallenges(site).includes("dns-01")) continue;
    results.push(...(await checkDns01({ dns, hosts: site.hosts, configKey: `sites[${i}].tls.dns`, baseDir: settings.baseDir, resolver: settings.resolver, timeoutMs: settings.timeoutMs })));
  }
  return results;
}

/** The CA's directory (through ca_root), what it offers against the config, and its clock. */
async function caChecks(ca: CaTarget, settings: Settings): Promise<{ results: CheckResult[]; identities: string[] }> {
  if (!ca.directoryUrl) return { results: [], identities: [] };
  const caRoot = readCaRoot(settings.config, settings.baseDir);
  const results: CheckResult[] = [];
  const rootResult = checkCaRoot(caRoot);
  if (rootResult) results.push(rootResult);
  const fetched = await fetchDirectory(ca.directoryUrl, caRoot, settings.timeoutMs);
  results.push(...checkCaDirectory(ca, fetched, settings.config));
  if (fetched.kind === "ok") results.push(checkClockSkew(fetched));
  return { results, identities: caaIdentities(ca, fetched) };
}

/** Per name: host name, DNS, CDN, CAA, then the canary round-trip, grouped by name. */
async function validationChecks(names: CertificateName[], ca: CaTarget, identities: string[], httpState: PortState, settings: Settings): Promise<CheckResult[]> {
  let dns: DnsLookup;
  try {
    dns = createDnsLookup(settings.resolver, settings.timeoutMs);
  } catch (err) {
    if (!(err instanceof ResolverSpecError)) throw err;
    return [fail("DNS resolver", err.message, "fix --resolver or PADLOCK_RESOLVER; leave both unset to use the system's resolver")];
  }
  const local = localAddresses();
  const perName = await Promise.all(names.map(async (n) => ({ ...n, ...(await nameChecks(n.name, n.challenges, ca, identities, dns, local)) })));
  const canaryNames = perName.filter((n) => n.challenges.includes("http-01") && !n.name.startsWith("*."));
  const canary = await runCanary({
    names: canaryNames.map((n) => ({ name: n.name, resolved: n.resolved })),
    port: settings.httpPort,
    listen: settings.config.listen,
    portState: httpState,
    localAddresses: local,
    timeoutMs: settings.timeoutMs,
  });
  return perName.flatMap((n) => {
    const i = canaryNames.indexOf(n);
    return i >= 0 ? [...n.results, canary[i]!] : n.results;
  });
}

interface CertificateName {
  name: string;
  challenges: readonly string[];
}

/** The names padlock will ask the CA for (an ACME CA, or its internal CA), as start-up chooses them. */
function certificateNames(config: Config, fromAcme: boolean): CertificateName[] {
  return config.sites
    .filter((site: Site) => certificateSource(config, site) === (fromAcme ? "acme" : "internal"))
    .flatMap((site) => site.hosts.map((name) => ({ name, challenges: allowedChallenges(site) })));
}

function caaIdentities(ca: CaTarget, fetched: DirectoryFetch): string[] {
  if (ca.caaIdentities.length > 0) return ca.caaIdentities;
  return fetched.kind === "ok" ? (fetched.directory.meta?.caaIdentities ?? []) : [];
}

async function nameChecks(
  name: string,
  challenges: readonly string[],
  ca: CaTarget,
  identities: string[],
  dns: DnsLookup,
  local: string[],
): Promise<{ results: CheckResult[]; resolved: ResolvedAddresses }> {
  const results = [checkHostName(name, ca, challenges)];
  const lookupName = name.replace(/^\*\./, "");
  const resolved = await resolveAddresses(dns, lookupName);
  results.push(checkDnsAddresses(lookupName, resolved, local, dns.describe), checkCdnRanges(lookupName, resolved));
  if (!isIP(name)) results.push(await checkCaa(dns, name, ca.name, identities));
  return { results, resolved };
}
