// Which sites get their certificates from padlock's internal CA rather than from an ACME CA.
// Kept free of heavy imports: config checks and start-up read it before any CA code loads.
import net from "node:net";
import type { Config, Site } from "../config/schema.js";
import { KNOWN_CAS } from "../acme/ca-directory.js";

/**
 * The names of this machine: what padlock serves with no config. Subdomains of localhost
 * (blog.localhost) are listed by name, never as `*.localhost`: OpenSSL and browsers refuse a
 * wildcard with a single label after it.
 */
export const LOCAL_NAMES = ["localhost", "127.0.0.1", "::1"];

/** True for names only this machine can reach: localhost, *.localhost, loopback addresses. */
export function isLocalName(name: string): boolean {
  if (net.isIP(name)) return name === "::1" || name.startsWith("127.");
  return name === "localhost" || name.endsWith(".localhost");
}

/**
 * Sites with `tls.internal`, every site when `ca: internal`, and sites made only of local names
 * when no CA is set or the CA is a public one (which would refuse them). A private ACME CA given
 * by URL (Pebble, a company CA) is asked for local names like any other.
 */
export function usesInternalCa(config: Config, site: Site): boolean {
  if (site.tls?.enabled === false) return false;
  if (site.tls?.internal !== undefined) return site.tls.internal;
  if (config.ca === "internal") return true;
  const privateAcme = config.ca !== undefined && KNOWN_CAS[config.ca] === undefined;
  return !privateAcme && site.hosts.every(isLocalName);
}

/** The host lists (one certificate each) the internal CA serves. */
export function internalNameSets(config: Config): string[][] {
  return config.sites.filter((site) => usesInternalCa(config, site)).map((site) => [...site.hosts]);
}
