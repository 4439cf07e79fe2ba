// Checks the schema cannot express: folders that must exist, host names, one owner per host,
// values that must parse, and (certificate-checks.ts) CA and certificate settings that only make
// sense together.
import { statSync } from "node:fs";
import path from "node:path";
import type { Config } from "./schema.js";
import { caProblems, challengeProblems, providedProblems, siteNameProblems } from "./certificate-checks.js";
import { cidrProblem, parseLoopbackListen } from "./addresses.js";
import { hostNameProblem } from "./host-name.js";
import { headerFieldProblem } from "./header-field.js";
import type { PathProblem } from "./problems.js";
import { parseSize } from "./size.js";
import { isRedisUrl, parseRedisUrl } from "../storage/redis-settings.js";
import { storageKeyProblem } from "../storage/encrypted-storage.js";

export const METRICS_REMOTE_HINT = "add allow_remote: true if a firewall or the scraper's network protects it (the metrics name every site)";

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

  problems.push(...caProblems(config));
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
    problems.push(...siteNameProblems(config, site, i), ...providedProblems(site, i, baseDir));
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
    for (const [name, value] of Object.entries(site.headers ?? {})) {
      const problem = headerFieldProblem(name, value);
      if (problem) problems.push({ path: at("headers", name), message: problem });
    }
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
