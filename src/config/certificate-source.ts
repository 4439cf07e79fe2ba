// Where each site's certificate comes from, decided in this one place: from the config's ACME
// CA (proving control with the site's challenges, HTTP-01 then TLS-ALPN-01 unless it says
// otherwise), from padlock's internal CA (local names, `tls.internal`, `ca: internal`), from files
// the config names (`tls.certificate` and `tls.key`), or from nowhere (`tls.enabled: false`, or no
// CA at all). Also what padlock knows about the CAs it can
// be pointed at by name. Config checks, start-up, the certificate core, the edge, the doctor and
// the imports all ask here; this module depends on nothing but the schema.
import net from "node:net";
import path from "node:path";
import type { ChallengeType, Config, Site } from "./schema.js";

export type CertificateSource = "acme" | "internal" | "provided" | "none";

/** Tried in this order when the config does not say. */
export const DEFAULT_CHALLENGES: readonly ChallengeType[] = ["http-01", "tls-alpn-01"];

export interface KnownCa {
  directoryUrl: string;
  /** A public CA validates from the internet and only issues for public names. */
  publicCa: boolean;
  requiresEab: boolean;
  staging: boolean;
  /** The CA's staging directory, where a first issuance can be rehearsed. */
  stagingName?: string;
  /** Issuer domain names it accepts in CAA "issue" records (ZeroSSL issues through Sectigo). */
  caaIdentities: string[];
  /** Its published limits: certificates per exact set of names per 7 days, failed validations per name per hour. */
  limits?: { ordersPerWeek: number; failedValidationsPerHour: number };
}

// Without a prototype: looked up by what a config says, "constructor" or "toString" must not be found.
export const KNOWN_CAS: Readonly<Record<string, KnownCa>> = Object.assign(Object.create(null) as Record<string, KnownCa>, {
  letsencrypt: {
    directoryUrl: "https://acme-v02.api.letsencrypt.org/directory",
    publicCa: true,
    requiresEab: false,
    staging: false,
    stagingName: "letsencrypt-staging",
    caaIdentities: ["letsencrypt.org"],
    limits: { ordersPerWeek: 5, failedValidationsPerHour: 5 },
  },
  "letsencrypt-staging": {
    directoryUrl: "https://acme-staging-v02.api.letsencrypt.org/directory",
    publicCa: true,
    requiresEab: false,
    staging: true,
    caaIdentities: ["letsencrypt.org"],
    // https://letsencrypt.org/docs/staging-environment/#rate-limits
    limits: { ordersPerWeek: 30_000, failedValidationsPerHour: 200 },
  },
  zerossl: { directoryUrl: "https://acme.zerossl.com/v2/DV90", publicCa: true, requiresEab: true, staging: false, caaIdentities: ["sectigo.com", "zerossl.com"] },
});

/** An ACME CA as the config chose it. */
export interface CaChoice {
  directoryUrl: string;
  /** As written in the config: "letsencrypt", or the URL. */
  label: string;
  publicCa: boolean;
  requiresEab: boolean;
  staging: boolean;
}

/** The CA a config's `ca:` names; undefined when it is neither a known name nor a URL (or is "internal"). */
export function chooseCa(ca: string): CaChoice | undefined {
  const known = KNOWN_CAS[ca];
  if (known) return { directoryUrl: known.directoryUrl, label: ca, publicCa: known.publicCa, requiresEab: known.requiresEab, staging: known.staging };
  if (!/^https?:\/\//.test(ca)) return undefined;
  return { directoryUrl: ca, label: ca, publicCa: false, requiresEab: false, staging: false };
}

/** The known CA at this directory URL, by name. */
export function knownCaAt(directoryUrl: string): { name: string; ca: KnownCa } | undefined {
  const name = Object.keys(KNOWN_CAS).find((n) => KNOWN_CAS[n]!.directoryUrl === directoryUrl);
  return name === undefined ? undefined : { name, ca: KNOWN_CAS[name]! };
}

/** The staging directory of a CA that has one, where a first issuance can be rehearsed. */
export function stagingOf(ca: CaChoice): CaChoice | undefined {
  const staging = KNOWN_CAS[ca.label]?.stagingName;
  return staging === undefined ? undefined : chooseCa(staging);
}

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
  if (site.tls?.enabled === false || isProvided(site)) return false;
  if (site.tls?.internal !== undefined) return site.tls.internal;
  if (config.ca === "internal") return true;
  const privateAcme = config.ca !== undefined && KNOWN_CAS[config.ca] === undefined;
  return !privateAcme && site.hosts.every(isLocalName);
}

/** Where the site's certificate comes from. */
export function certificateSource(config: Config, site: Site): CertificateSource {
  if (site.tls?.enabled === false) return "none";
  if (isProvided(site)) return "provided";
  if (usesInternalCa(config, site)) return "internal";
  return config.ca && config.ca !== "internal" ? "acme" : "none";
}

/** The site brings its own certificate and key files. */
function isProvided(site: Site): boolean {
  return site.tls?.certificate !== undefined || site.tls?.key !== undefined;
}

/** A site's own certificate and key files, as absolute paths. */
export interface ProvidedFiles {
  /** Where the config names them, for messages: "sites[2].tls". */
  at: string;
  hosts: string[];
  certificate: string;
  key: string;
}

/** The certificate and key files of each site that brings its own, relative paths taken from the config's folder. */
export function providedFiles(config: Config, baseDir: string): ProvidedFiles[] {
  return config.sites.flatMap((site, i) =>
    certificateSource(config, site) === "provided" && site.tls?.certificate && site.tls.key
      ? [{ at: `sites[${i}].tls`, hosts: [...site.hosts], certificate: path.resolve(baseDir, site.tls.certificate), key: path.resolve(baseDir, site.tls.key) }]
      : [],
  );
}

/** A site serves HTTPS (and sends HSTS) once a certificate for its host is installed, unless its TLS is off. */
export function tlsEnabled(site: Site): boolean {
  return site.tls?.enabled !== false;
}

/** The challenges a site may use to prove control to an ACME CA, in order. */
export function allowedChallenges(site: Site): readonly ChallengeType[] {
  return site.tls?.challenges ?? DEFAULT_CHALLENGES;
}

/** The host lists (one certificate each) the internal CA serves. */
export function internalNameSets(config: Config): string[][] {
  return config.sites.filter((site) => certificateSource(config, site) === "internal").map((site) => [...site.hosts]);
}
