// Config checks for how a site proves control: a wildcard can only be proven through DNS-01,
// and DNS-01 needs a DNS provider. Reported with the config path, like every config problem.
import type { Config, Site } from "../../config/schema.js";
import type { PathProblem } from "../../config/check.js";
import { usesInternalCa } from "../../tls/internal-ca-choice.js";

type ChallengeList = NonNullable<NonNullable<Site["tls"]>["challenges"]>;

/** Tried in this order when the config does not say. */
export const DEFAULT_CHALLENGES: ChallengeList = ["http-01", "tls-alpn-01"];

/** The challenges a site may use, in order. */
export function allowedChallenges(site: Site): ChallengeList {
  return site.tls?.challenges ?? DEFAULT_CHALLENGES;
}

export function challengeProblems(config: Config): PathProblem[] {
  const problems: PathProblem[] = [];
  config.sites.forEach((site, i) => {
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
