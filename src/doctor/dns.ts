// DNS as the CA sees it: every lookup goes to one resolver, which may be set explicitly
// (a test DNS server, the zone's own resolver) instead of the system's.
import { Resolver } from "node:dns/promises";
import { isIP } from "node:net";

export interface DnsLookup {
  resolver: Resolver;
  /** "system" or the servers given, for messages. */
  describe: string;
}

/** `spec` is "HOST:PORT", "HOST", "[V6]:PORT" or several of them separated by commas. */
export function createDnsLookup(spec: string | undefined, timeoutMs = 5000): DnsLookup {
  const resolver = new Resolver({ timeout: timeoutMs, tries: 2 });
  if (spec) {
    try {
      resolver.setServers(spec.split(",").map((s) => s.trim()).filter(Boolean));
    } catch {
      throw new ResolverSpecError(`"${spec}" is not a DNS server address; write IP:PORT, e.g. 127.0.0.1:8053 or [::1]:53`);
    }
  }
  return { resolver, describe: spec ? `resolver ${spec}` : "the system resolver" };
}

export class ResolverSpecError extends Error {}

export interface ResolvedAddresses {
  addresses: string[];
  /** Set when neither an A nor an AAAA lookup answered normally (SERVFAIL, timeout). */
  error?: string;
}

const NO_RECORDS = new Set(["ENODATA", "ENOTFOUND"]);

/** A and AAAA records of a name (CNAMEs followed by the resolver); an IP is its own address. */
export async function resolveAddresses(dns: DnsLookup, name: string): Promise<ResolvedAddresses> {
  if (isIP(name)) return { addresses: [name] };
  const results = await Promise.allSettled([dns.resolver.resolve4(name), dns.resolver.resolve6(name)]);
  const addresses: string[] = [];
  const errors: string[] = [];
  for (const r of results) {
    if (r.status === "fulfilled") addresses.push(...r.value);
    else if (!NO_RECORDS.has((r.reason as NodeJS.ErrnoException).code ?? "")) errors.push(describeDnsError(r.reason));
  }
  return errors.length > 0 && addresses.length === 0 ? { addresses, error: [...new Set(errors)].join("; ") } : { addresses };
}

export function describeDnsError(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  switch (code) {
    case "ETIMEOUT":
      return "the DNS server did not answer in time";
    case "ESERVFAIL":
      return "the DNS server answered SERVFAIL";
    case "ECONNREFUSED":
      return "the DNS server refused the connection";
    case "EREFUSED":
      return "the DNS server refused the query";
    default:
      return `DNS lookup failed (${code ?? String(err)})`;
  }
}

export function isNoRecords(err: unknown): boolean {
  return NO_RECORDS.has((err as NodeJS.ErrnoException).code ?? "");
}
