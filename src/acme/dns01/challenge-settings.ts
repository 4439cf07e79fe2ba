// Config checks for how a site proves control: a wildcard can only be proven through DNS-01,
// DNS-01 needs a DNS provider, and the provider's servers and zone must make sense. Reported
// with the config path, like every config problem.
import { isIP } from "node:net";
import type { Config, DnsProvider, Site } from "../../config/schema.js";
import type { PathProblem } from "../../config/check.js";
import { usesInternalCa } from "../../tls/internal-ca-choice.js";
import { resolverProblem } from "./authoritative.js";
import { parseServer } from "./dns-client.js";
import { challengeRecordName } from "./provider.js";
import { isInZone } from "./rfc2136.js";

type ChallengeList = NonNullable<NonNullable<Site["tls"]>["challenges"]>;

/** Tried in this order when the config does not say. */
export const DEFAULT_CHALLENGES: ChallengeList = ["http-01", "tls-alpn-01"];

/** The challenges a site may use, in order. */
export function allowedChallenges(site: Site): ChallengeList {
  return site.tls?.challenges ?? DEFAULT_CHALLENGES;
}

export function challengeProblems(config: Config): PathProblem[] {
  const problems: PathProblem[] = [];
  const resolver = resolverProblem(config.resolver);
  if (resolver) problems.push({ path: ["resolver"], message: resolver });
  config.sites.forEach((site, i) => {
    if (site.tls?.dns) problems.push(...dnsSettingsProblems(site.tls.dns, site.hosts, ["sites", i, "tls", "dns"]));
    // Only sites whose certificates come from an ACME CA prove anything.
    if (!config.ca || site.tls?.enabled === false || usesInternalCa(config, site)) return;
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
