// Config checks about certificates, by the rule in certificate-source.ts: the CA is one padlock
// knows or a URL, with what it needs (EAB, accepted terms); each name can be issued by it with the
// site's challenges (a wildcard only through DNS-01, an IP address only through HTTP-01 or
// TLS-ALPN-01, a public CA only for public names); DNS-01 has a provider whose servers and zone
// make sense. Reported with the config path, like every config problem.
import { statSync } from "node:fs";
import { isIP } from "node:net";
import path from "node:path";
import { allowedChallenges, certificateSource, chooseCa, KNOWN_CAS } from "./certificate-source.js";
import { challengeRecordName, isInZone, parseServer, resolverProblem } from "./dns-settings.js";
import { hostNameProblem } from "./host-name.js";
import type { PathProblem } from "./problems.js";
import type { Config, DnsProvider, Site } from "./schema.js";

const CA_NAMES = [...Object.keys(KNOWN_CAS), "internal"];

// Names no public CA issues for (RFC 6761, 6762, 8375, and ICANN's .internal).
const RESERVED_SUFFIXES = ["localhost", "local", "test", "example", "invalid", "internal", "home.arpa", "lan"];

/** The CA is one padlock knows or a URL, with what it needs before an account can be made. */
export function caProblems(config: Config): PathProblem[] {
  const problems: PathProblem[] = [];
  if (config.ca && config.ca !== "internal" && !chooseCa(config.ca)) {
    problems.push({ path: ["ca"], message: `unknown CA "${config.ca}"; expected one of ${CA_NAMES.join(", ")} or an ACME directory URL (https://…/directory)` });
  }
  const known = config.ca === undefined ? undefined : KNOWN_CAS[config.ca];
  if (known?.requiresEab && !config.eab) {
    problems.push({ path: ["ca"], message: "ZeroSSL needs External Account Binding: add eab: { kid: …, hmac_key: … } from your ZeroSSL dashboard (Developer section)" });
  }
  if (known?.publicCa && config.accept_terms !== true) {
    problems.push({ path: ["ca"], message: `${config.ca} requires accepting its terms of service before padlock creates an account: read them, then add accept_terms: true` });
  }
  return problems;
}

/** The settings that make no sense beside a certificate the site brings, and what each says instead. */
const NOT_WITH_PROVIDED = {
  internal: "internal: true (the internal CA would issue one)",
  challenges: "challenges (padlock never orders for this site)",
  dns: "dns (padlock never orders for this site)",
  profile: "profile (padlock never orders for this site)",
  key_type: "key_type (the key is the file's)",
} as const;

/**
 * A certificate the site brings: both files named, present, and nothing beside them that would
 * have padlock order one. (Whether they are a matching pair for the site's names is read when
 * padlock starts, with the files' own words: tls/provided-certificates.ts.)
 */
export function providedProblems(site: Site, i: number, baseDir: string): PathProblem[] {
  const tls = site.tls;
  if (!tls || (tls.certificate === undefined && tls.key === undefined)) return [];
  const at = (key: string) => ["sites", i, "tls", key];
  if (tls.certificate === undefined) return [{ path: at("key"), message: "a key without its certificate: add tls.certificate (the PEM file with the certificate and its chain)" }];
  if (tls.key === undefined) return [{ path: at("certificate"), message: "a certificate without its key: add tls.key (the PEM file with its private key)" }];
  const problems: PathProblem[] = [];
  if (tls.enabled === false) problems.push({ path: at("enabled"), message: "enabled: false turns HTTPS off, so the certificate and key would not be used: remove one or the other" });
  for (const [key, what] of Object.entries(NOT_WITH_PROVIDED)) {
    if (tls[key as keyof typeof NOT_WITH_PROVIDED] !== undefined) problems.push({ path: at(key), message: `this site brings its own certificate, so ${what} does not apply: remove it` });
  }
  for (const key of ["certificate", "key"] as const) {
    const file = path.resolve(baseDir, tls[key]!);
    try {
      if (!statSync(file).isFile()) problems.push({ path: at(key), message: `"${file}" is not a file` });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      problems.push({ path: at(key), message: code === "ENOENT" ? `file "${file}" does not exist; fix the path (relative paths are relative to the config file)` : `cannot read "${file}" (${code})` });
    }
  }
  return problems;
}

/** Each of the site's names can be issued by its ACME CA with its challenges. */
export function siteNameProblems(config: Config, site: Site, i: number): PathProblem[] {
  if (certificateSource(config, site) !== "acme") return [];
  const publicCa = config.ca !== undefined && KNOWN_CAS[config.ca]?.publicCa ? config.ca : undefined;
  return site.hosts.flatMap((host, h) => {
    const problem = certificateNameProblem(host, allowedChallenges(site), publicCa);
    return problem ? [{ path: ["sites", i, "hosts", h], message: problem }] : [];
  });
}

/** Why this host cannot get a certificate with these challenges from this CA, if it cannot. */
function certificateNameProblem(host: string, challenges: readonly string[], publicCa?: string): string | undefined {
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

/** A wildcard can only be proven through DNS-01, DNS-01 needs a DNS provider, and the provider's servers and zone must make sense. */
export function challengeProblems(config: Config): PathProblem[] {
  const problems: PathProblem[] = [];
  const resolver = resolverProblem(config.resolver);
  if (resolver) problems.push({ path: ["resolver"], message: resolver });
  config.sites.forEach((site, i) => {
    if (site.tls?.dns) problems.push(...dnsSettingsProblems(site.tls.dns, site.hosts, ["sites", i, "tls", "dns"]));
    // Only sites whose certificates come from an ACME CA prove anything.
    if (certificateSource(config, site) !== "acme") return;
    const challenges = allowedChallenges(site);
    const wildcard = site.hosts.findIndex((h) => h.startsWith("*."));
    if (wildcard >= 0 && !challenges.includes("dns-01")) {
      problems.push({
        path: ["sites", i, "hosts", wildcard],
        message:
          `"${site.hosts[wildcard]}" is a wildcard, which CAs only issue through DNS-01, but this site allows ${challenges.join(", ")}; ` +
          "add tls: { challenges: [dns-01], dns: { provider: rfc2136 | exec, … } }",
      });
    }
    if (challenges.includes("dns-01") && !site.tls?.dns) {
      problems.push({
        path: ["sites", i, "tls", "challenges"],
        message: "dns-01 needs a DNS provider to publish its TXT records: add tls.dns (provider: rfc2136 with server and TSIG key, or provider: exec with a command)",
      });
    }
  });
  return problems;
}

const SERVER_FORM = "expected host or host:port (port 1-65535), e.g. ns1.example.com:53, 192.0.2.53 or [2001:db8::53]:53";

function dnsSettingsProblems(dns: DnsProvider, hosts: string[], at: (string | number)[]): PathProblem[] {
  const problems: PathProblem[] = [];
  dns.nameservers?.forEach((spec, n) => {
    if (!parseServer(spec)) problems.push({ path: [...at, "nameservers", n], message: `"${spec}" is not a DNS server; ${SERVER_FORM}` });
  });
  if (dns.provider !== "rfc2136") return problems;
  if (!parseServer(dns.server)) problems.push({ path: [...at, "server"], message: `"${dns.server}" is not a DNS server; ${SERVER_FORM}` });
  if (dns.zone !== undefined) {
    const zone = dns.zone.replace(/\.$/, "");
    const outside = hosts.filter((h) => !isIP(h) && !isInZone(challengeRecordName(h), zone));
    if (outside.length > 0) {
      problems.push({
        path: [...at, "zone"],
        message:
          `zone "${zone}" does not contain ${outside.map((h) => `${challengeRecordName(h)} (for ${h})`).join(", ")}, where the CA looks for the TXT record: ` +
          "set zone to the zone holding these names, or leave it out to have padlock ask the server",
      });
    }
  }
  return problems;
}
