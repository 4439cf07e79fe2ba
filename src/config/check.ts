// Checks the schema cannot express: folders that must exist, host names, one owner per host,
// CA settings that only make sense together.
import { statSync } from "node:fs";
import path from "node:path";
import { isIP } from "node:net";
import type { Config } from "./schema.js";
import { allowedChallenges, challengeProblems } from "../acme/dns01/challenge-settings.js";
import { usesInternalCa } from "../tls/internal-ca-choice.js";
import { chooseCa, KNOWN_CAS } from "../acme/ca-directory.js";
import { parseSize } from "./size.js";
import { cidrProblem } from "../proxy/forwarding.js";
import { parseLoopbackListen } from "../server/loopback-address.js";
import { isRedisUrl, parseRedisUrl } from "../storage/redis-settings.js";
import { storageKeyProblem } from "../storage/encrypted-storage.js";

export interface PathProblem {
  path: (string | number)[];
  message: string;
}

const CA_NAMES = [...Object.keys(KNOWN_CAS), "internal"];

export const METRICS_REMOTE_HINT = "add allow_remote: true if a firewall or the scraper's network protects it (the metrics name every site)";

const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/i;

/** Why a host name is invalid, or undefined when it is fine. */
export function hostNameProblem(host: string): string | undefined {
  if (isIP(host)) return undefined;
  const name = host.startsWith("*.") ? host.slice(2) : host;
  if (name.includes("*")) return `"${host}" is not a valid host name: a wildcard may only be the whole first label, as in *.example.com`;
  if (name.endsWith(".")) return `"${host}" is not a valid host name: remove the trailing dot`;
  if (/[A-Z]/.test(name)) return `"${host}" must be written in lower case`;
  const labels = name.split(".");
  const bad = labels.find((l) => !LABEL.test(l));
  if (bad !== undefined) {
    return `"${host}" is not a valid host name: label "${bad}" must be 1-63 letters, digits or hyphens, not starting or ending with a hyphen`;
  }
  if (name.length > 253) return `"${host}" is longer than 253 characters`;
  return undefined;
}

// Names no public CA issues for (RFC 6761, 6762, 8375, and ICANN's .internal).
const RESERVED_SUFFIXES = ["localhost", "local", "test", "example", "invalid", "internal", "home.arpa", "lan"];

/** Why this host cannot get a certificate with these challenges from this CA, if it cannot. */
export function certificateNameProblem(host: string, challenges: string[], publicCa?: string): string | undefined {
  if (hostNameProblem(host)) return undefined; // reported on its own
  // Wildcards and DNS providers are checked with the other challenge settings (challengeProblems).
  const ip = isIP(host);
  if (ip && !challenges.some((c) => c === "http-01" || c === "tls-alpn-01")) {
    return `"${host}" is an IP address, which only http-01 or tls-alpn-01 can prove (there is no DNS to put a record in); allow one of them in tls.challenges`;
  }
  if (publicCa) {
    const name = host.replace(/^\*\./, "");
    if (ip ? isPrivateAddress(host) : !name.includes(".") || RESERVED_SUFFIXES.some((r) => name === r || name.endsWith("." + r))) {
      return `"${host}" is not a public name, so ${publicCa} will not issue a certificate for it; use a name in public DNS, or tls: { internal: true } for local development`;
    }
  }
  return undefined;
}

function isPrivateAddress(ip: string): boolean {
  if (isIP(ip) === 4) {
    const [a, b] = ip.split(".").map(Number) as [number, number];
    return a === 10 || a === 127 || a === 0 || (a === 172 && b >= 16 && b < 32) || (a === 192 && b === 168) || (a === 169 && b === 254) || (a === 100 && b >= 64 && b < 128);
  }
  const v = ip.toLowerCase();
  return v === "::1" || v === "::" || v.startsWith("fc") || v.startsWith("fd") || v.startsWith("fe80");
}

function folderProblem(dir: string, base: string): string | undefined {
  const full = path.resolve(base, dir);
  try {
    if (!statSync(full).isDirectory()) return `"${full}" is not a folder`;
  } catch {
    return `folder "${full}" does not exist; create it or fix the path (relative paths are relative to the config file)`;
  }
  return undefined;
}

export function checkConfig(config: Config, baseDir: string): PathProblem[] {
  const problems: PathProblem[] = [];
  const owner = new Map<string, number>();
  let defaults = 0;

  if (config.ca && config.ca !== "internal" && !chooseCa(config.ca)) {
    problems.push({ path: ["ca"], message: `unknown CA "${config.ca}"; expected one of ${CA_NAMES.join(", ")} or an ACME directory URL (https://…/directory)` });
  }
  const known = config.ca === undefined ? undefined : KNOWN_CAS[config.ca];
  if (known?.requiresEab && !config.eab) {
    problems.push({ path: ["ca"], message: "ZeroSSL needs External Account Binding: add eab: { kid: …, hmac_key: … } from your ZeroSSL dashboard (Developer section)" });
  }

  const publicCa = known?.publicCa === true;
  if (publicCa && config.accept_terms !== true) {
    problems.push({ path: ["ca"], message: `${config.ca} requires accepting its terms of service before padlock creates an account: read them, then add accept_terms: true` });
  }
  if (config.storage !== undefined && isRedisUrl(config.storage)) {
    try {
      parseRedisUrl(config.storage, baseDir, {});
    } catch (err) {
      problems.push({ path: ["storage"], message: (err as Error).message.replace(/^storage: /, "") });
    }
  } else if (config.storage !== undefined && /^[a-z]+:\/\//i.test(config.storage)) {
    problems.push({ path: ["storage"], message: `"${config.storage.split(":")[0]}:" storage is not supported; use a folder path, redis:// or rediss://` });
  }
  if (config.storage_key !== undefined) {
    const problem = storageKeyProblem(config.storage_key);
    if (problem) problems.push({ path: ["storage_key"], message: problem });
  }

  config.trusted_proxies?.forEach((cidr, i) => {
    const problem = cidrProblem(cidr);
    if (problem) problems.push({ path: ["trusted_proxies", i], message: problem });
  });

  config.sites.forEach((site, i) => {
    const at = (...rest: (string | number)[]) => ["sites", i, ...rest];
    if (site.max_body !== undefined && parseSize(site.max_body) === undefined) problems.push({ path: at("max_body"), message: sizeProblem(site.max_body) });
    if (typeof site.hsts === "object" && site.hsts.preload && (!site.hsts.include_subdomains || (site.hsts.max_age ?? 31_536_000) < 31_536_000)) {
      problems.push({ path: at("hsts", "preload"), message: "the HSTS preload list needs include_subdomains: true and max_age of at least 31536000 (one year)" });
    }
    if (config.ca && site.tls?.enabled !== false && !usesInternalCa(config, site)) {
      site.hosts.forEach((host, h) => {
        const problem = certificateNameProblem(host, allowedChallenges(site), publicCa ? config.ca : undefined);
        if (problem) problems.push({ path: at("hosts", h), message: problem });
      });
    }
    // Object keys keep the file's order, so the message points at the second one written.
    const handlers = Object.keys(site).filter((k) => ["blog", "static", "proxy", "redirect"].includes(k));
    if (handlers.length > 1) {
      problems.push({ path: at(handlers[1]!), message: `a site serves one thing, but this one has ${handlers.join(" and ")}; put the others under routes:` });
    }
    if (handlers.length === 0 && !site.routes?.length) {
      problems.push({ path: at("hosts"), message: "this site serves nothing; add blog:, static:, proxy:, redirect: or routes:" });
    }
    for (const key of ["blog", "static"] as const) {
      const dir = site[key];
      const problem = dir === undefined ? undefined : folderProblem(dir, baseDir);
      if (problem) problems.push({ path: at(key), message: problem });
    }
    site.hosts.forEach((host, h) => {
      const problem = hostNameProblem(host);
      if (problem) problems.push({ path: at("hosts", h), message: problem });
      const first = owner.get(host);
      if (first !== undefined) problems.push({ path: at("hosts", h), message: `"${host}" is already served by sites[${first}]; a host belongs to one site` });
      else owner.set(host, i);
    });
    if (site.default) defaults++;
    site.routes?.forEach((route, r) => {
      const targets = (["proxy", "static", "redirect"] as const).filter((k) => route[k] !== undefined);
      if (targets.length !== 1) {
        problems.push({ path: at("routes", r), message: `a route needs exactly one of proxy:, static:, redirect: (found ${targets.length ? targets.join(", ") : "none"})` });
      }
      if (route.max_body !== undefined && parseSize(route.max_body) === undefined) problems.push({ path: at("routes", r, "max_body"), message: sizeProblem(route.max_body) });
      if (route.static !== undefined) {
        const problem = folderProblem(route.static, baseDir);
        if (problem) problems.push({ path: at("routes", r, "static"), message: problem });
      }
    });
  });
  if (defaults > 1) problems.push({ path: ["sites"], message: "only one site may be the default (default: true)" });
  problems.push(...challengeProblems(config));
  if (config.metrics) {
    const address = parseLoopbackListen(config.metrics.listen, config.metrics.allow_remote === true, METRICS_REMOTE_HINT);
    if (typeof address === "string") problems.push({ path: ["metrics", "listen"], message: address });
  }
  if (config.admin?.listen) {
    const address = parseLoopbackListen(config.admin.listen, false);
    if (typeof address === "string") problems.push({ path: ["admin", "listen"], message: `${address} (the admin endpoint renews and revokes certificates: loopback only)` });
  }
  if (config.admin?.listen && config.admin.socket) problems.push({ path: ["admin"], message: "give either socket: or listen:, not both" });
  return problems;
}

function sizeProblem(value: string | number): string {
  return `${JSON.stringify(value)} is not a size; write a number of bytes or a number with a unit, e.g. 10mb, 512kb, 1gb`;
}
