// Runs every pre-flight check for a config, in the order a person would fix things: the
// config, the CA, storage, ports, then each host name (DNS, CDN, CAA, canary round-trip).
import path from "node:path";
import { isIP } from "node:net";
import type { Config, Site } from "../config/schema.js";
import { caTargetOf, readCaRoot, type CaTarget } from "./ca-target.js";
import { fetchDirectory, type DirectoryFetch } from "./ca-directory.js";
import { fail, ok, type CheckResult } from "./check-result.js";
import { createDnsLookup, resolveAddresses, ResolverSpecError, type DnsLookup, type ResolvedAddresses } from "./dns.js";
import { localAddresses } from "./local-addresses.js";
import { checkConfigValid } from "./checks/config-valid.js";
import { checkCaDirectory, checkCaRoot } from "./checks/ca-directory.js";
import { checkClockSkew } from "./checks/clock-skew.js";
import { checkStorage } from "./checks/storage.js";
import { checkPort } from "./checks/ports.js";
import { checkHostName } from "./checks/host-name.js";
import { checkDnsAddresses } from "./checks/dns-addresses.js";
import { checkCdnRanges } from "./checks/cdn-ranges.js";
import { checkCaa } from "./checks/caa.js";
import { runCanary } from "./checks/canary.js";

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

/** Where certificates are kept when the config has no storage: (relative to the config file). */
export const DEFAULT_STORAGE = "padlock-data";
/** Challenges a site allows when its config does not say. */
const DEFAULT_CHALLENGES = ["http-01", "tls-alpn-01"];

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

async function checkEverythingElse(config: Config, options: DoctorOptions): Promise<CheckResult[]> {
  const baseDir = path.dirname(path.resolve(options.configFile));
  const timeoutMs = options.timeoutMs ?? 10_000;
  const httpPort = options.httpPort ?? config.http_port ?? 80;
  const httpsPort = options.httpsPort ?? config.https_port ?? 443;
  const results: CheckResult[] = [];
  const ca = caTargetOf(config);

  let identities: string[] = [];
  if (!ca) {
    results.push(ok("CA", "no ca: in the config, so padlock serves plain HTTP and gets no certificates"));
  } else if (ca.directoryUrl) {
    const caRoot = readCaRoot(config, baseDir);
    const rootResult = checkCaRoot(caRoot);
    if (rootResult) results.push(rootResult);
    const fetched = await fetchDirectory(ca.directoryUrl, caRoot, timeoutMs);
    results.push(...checkCaDirectory(ca, fetched, config));
    if (fetched.kind === "ok") results.push(checkClockSkew(fetched));
    identities = caaIdentities(ca, fetched);
  }

  if (ca) {
    const storage = config.storage ?? DEFAULT_STORAGE;
    if (/^rediss?:\/\//.test(storage)) results.push(ok("storage", `${storage}: Redis storage is not checked by the doctor yet`));
    else results.push(...checkStorage({ dir: path.resolve(baseDir, storage), user: config.user }));
  }

  const http = await checkPort("HTTP", httpPort, config.listen, timeoutMs);
  results.push(http.result);
  if (ca) results.push((await checkPort("HTTPS", httpsPort, config.listen, timeoutMs)).result);
  if (!ca) return results;

  const names = certificateNames(config);
  // padlock's internal CA validates nothing: only the names themselves matter.
  if (!ca.directoryUrl) return [...results, ...names.map((n) => checkHostName(n.name, ca, n.challenges))];
  const resolverSpec = options.resolver ?? process.env.PADLOCK_RESOLVER;
  let dns: DnsLookup;
  try {
    dns = createDnsLookup(resolverSpec, timeoutMs);
  } catch (err) {
    if (!(err instanceof ResolverSpecError)) throw err;
    return [...results, fail("DNS resolver", err.message, "fix --resolver or PADLOCK_RESOLVER; leave both unset to use the system's resolver")];
  }
  const local = localAddresses();
  const perName = await Promise.all(names.map(async (n) => ({ ...n, ...(await nameChecks(n.name, n.challenges, ca, identities, dns, local)) })));
  const canaryNames = perName.filter((n) => n.challenges.includes("http-01") && !n.name.startsWith("*."));
  const canary = await runCanary({
    names: canaryNames.map((n) => ({ name: n.name, resolved: n.resolved })),
    port: httpPort,
    listen: config.listen,
    portState: http.state,
    localAddresses: local,
    timeoutMs,
  });
  for (const n of perName) {
    results.push(...n.results);
    const i = canaryNames.indexOf(n);
    if (i >= 0) results.push(canary[i]!);
  }
  return results;
}

interface CertificateName {
  name: string;
  challenges: string[];
}

/** The names padlock will ask the CA for: every host of every site with TLS on. */
function certificateNames(config: Config): CertificateName[] {
  return config.sites
    .filter((site: Site) => site.tls?.enabled !== false && site.tls?.internal !== true)
    .flatMap((site) => site.hosts.map((name) => ({ name, challenges: site.tls?.challenges ?? DEFAULT_CHALLENGES })));
}

function caaIdentities(ca: CaTarget, fetched: DirectoryFetch): string[] {
  if (ca.caaIdentities.length > 0) return ca.caaIdentities;
  return fetched.kind === "ok" ? (fetched.directory.meta?.caaIdentities ?? []) : [];
}

async function nameChecks(
  name: string,
  challenges: string[],
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
