// What the edge does around a site's own handler: HSTS, the site's extra response headers and
// the www/apex canonical host. Worked out once per site, applied to every response.
import { tlsEnabled } from "../config/certificate-source.js";
import type { Site } from "../config/schema.js";
import { SiteHeaders } from "./site-headers.js";

/** One year: long enough to protect, short enough to recover from within a year if TLS is dropped. */
export const DEFAULT_HSTS_MAX_AGE = 31_536_000;

export interface SitePolicy {
  /** What every response over HTTPS carries: the config's headers and HSTS (undefined: none). */
  httpsHeaders: SiteHeaders | undefined;
  /** What every response over plain HTTP carries: the config's headers. */
  httpHeaders: SiteHeaders | undefined;
  /** The host a request for `host` should be redirected to, or undefined to serve it. */
  canonicalHost(host: string): string | undefined;
}

export function sitePolicy(site: Site): SitePolicy {
  const hostSet = new Set(site.hosts);
  const configured = Object.entries(site.headers ?? {});
  const hsts = hstsValue(site);
  const https: [string, string][] = hsts ? [...configured, ["strict-transport-security", hsts]] : configured;
  return {
    httpsHeaders: https.length > 0 ? new SiteHeaders(https) : undefined,
    httpHeaders: configured.length > 0 ? new SiteHeaders(configured) : undefined,
    canonicalHost(host) {
      if (site.canonical === "www" && !host.startsWith("www.") && hostSet.has(`www.${host}`)) return `www.${host}`;
      if (site.canonical === "apex" && host.startsWith("www.") && hostSet.has(host.slice(4))) return host.slice(4);
      return undefined;
    },
  };
}

function hstsValue(site: Site): string | undefined {
  if (!tlsEnabled(site) || site.hsts === false) return undefined;
  const options = typeof site.hsts === "object" ? site.hsts : {};
  let value = `max-age=${options.max_age ?? DEFAULT_HSTS_MAX_AGE}`;
  if (options.include_subdomains) value += "; includeSubDomains";
  if (options.preload) value += "; preload";
  return value;
}
