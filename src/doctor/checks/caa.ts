// Check: CAA records (RFC 8659) allow the chosen CA to issue for the name. The relevant record
// set is the first non-empty one found climbing from the name towards the root.
import type { CaaRecord } from "node:dns";
import { describeDnsError, isNoRecords, type DnsLookup } from "../dns.js";
import { fail, ok, warn, type CheckResult } from "../check-result.js";

const KNOWN_TAGS = new Set(["issue", "issuewild", "iodef", "issuemail", "issuevmc", "contactemail", "contactphone"]);

export interface RelevantCaa {
  /** The name that holds the records, undefined when no name up the tree has any. */
  owner?: string;
  records: CaaRecord[];
}

export async function relevantCaa(dns: DnsLookup, name: string): Promise<RelevantCaa> {
  const labels = name.replace(/^\*\./, "").split(".");
  for (let i = 0; i < labels.length; i++) {
    const owner = labels.slice(i).join(".");
    try {
      const records = await dns.resolver.resolveCaa(owner);
      if (records.length > 0) return { owner, records };
    } catch (err) {
      if (!isNoRecords(err)) throw err;
    }
  }
  return { records: [] };
}

/** The issuer domain of an issue/issuewild value: "letsencrypt.org; accounturi=…" → "letsencrypt.org". */
function issuerDomain(value: string): string {
  return value.split(";")[0]!.trim().toLowerCase();
}

function tagOf(record: CaaRecord): string | undefined {
  return Object.keys(record).find((k) => k !== "critical");
}

export async function checkCaa(dns: DnsLookup, name: string, caName: string, identities: string[]): Promise<CheckResult> {
  const check = `CAA ${name}`;
  let caa: RelevantCaa;
  try {
    caa = await relevantCaa(dns, name);
  } catch (err) {
    return warn(check, `CAA lookup for ${name} failed: ${describeDnsError(err)}`, "a CA refuses to issue when the CAA lookup fails: fix the zone's DNS servers");
  }
  if (!caa.owner) return ok(check, `no CAA records for ${name} or its parents: any CA may issue`);
  const where = caa.owner === name ? name : `${caa.owner} (inherited by ${name})`;
  const unknownCritical = caa.records.find((r) => r.critical & 128 && !KNOWN_TAGS.has(tagOf(r) ?? ""));
  if (unknownCritical) {
    return fail(check, `CAA at ${where} has a critical record with tag "${tagOf(unknownCritical)}" that CAs do not know`, "every CA must refuse to issue: remove that record or clear its critical flag");
  }
  const wildcard = name.startsWith("*.");
  const issueWild = caa.records.filter((r) => r.issuewild !== undefined).map((r) => r.issuewild!);
  const issue = caa.records.filter((r) => r.issue !== undefined).map((r) => r.issue!);
  const values = wildcard && issueWild.length > 0 ? issueWild : issue;
  const tag = wildcard && issueWild.length > 0 ? "issuewild" : "issue";
  if (values.length === 0) return ok(check, `CAA at ${where} has no "${tag}" records: any CA may issue`);
  const allowed = values.map(issuerDomain);
  const listed = allowed.map((d) => (d === "" ? '";" (no CA)' : d)).join(", ");
  if (identities.length === 0) {
    return warn(check, `CAA at ${where} allows only ${listed}; ${caName} does not say which CAA name it uses`, `make sure ${listed} is the CA ${caName}, or add an "${tag}" record naming it`);
  }
  const match = identities.find((id) => allowed.includes(id.toLowerCase()));
  if (match) return ok(check, `CAA at ${where} allows ${listed}, which includes ${match}`);
  return fail(
    check,
    `CAA at ${where} allows only ${listed}; ${caName} uses ${identities.join(" or ")}`,
    `add a CAA record: ${caa.owner}. CAA 0 ${tag} "${identities[0]}" (or switch to a CA the records allow)`,
  );
}
