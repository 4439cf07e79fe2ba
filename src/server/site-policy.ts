// What the edge does around a site's own handler: HSTS, the site's extra response headers and
// the www/apex canonical host. Worked out once per site, applied to every response.
import { tlsEnabled } from "../config/certificate-source.js";
import type { Site } from "../config/schema.js";

/** One year: long enough to protect, short enough to recover from within a year if TLS is dropped. */
export const DEFAULT_HSTS_MAX_AGE = 31_536_000;

export interface SitePolicy {
  /** The Strict-Transport-Security value for HTTPS responses, or undefined when off. */
  hsts: string | undefined;
  /** Extra response headers from the config (lower-case names). */
  headers: [string, string][];
  /** The host a request for `host` should be redirected to, or undefined to serve it. */
  canonicalHost(host: string): string | undefined;
}

export function sitePolicy(site: Site): SitePolicy {
  const hostSet = new Set(site.hosts);
  return {
    hsts: hstsValue(site),
    headers: Object.entries(site.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]),
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
