// Check: the name's A/AAAA records point at this machine, since that is where the CA sends
// its HTTP-01 request.
import type { ResolvedAddresses } from "../dns.js";
import { fail, ok, warn, type CheckResult } from "../check-result.js";
import { reachableAddresses } from "../local-addresses.js";

export function checkDnsAddresses(name: string, resolved: ResolvedAddresses, local: string[], dnsDescribe: string): CheckResult {
  const check = `DNS ${name}`;
  if (resolved.error) return fail(check, `looking up ${name} via ${dnsDescribe}: ${resolved.error}`, "fix the zone's DNS servers; the CA cannot validate a name it cannot resolve");
  if (resolved.addresses.length === 0) {
    return fail(check, `${name} has no A or AAAA record (asked ${dnsDescribe})`, `add an A record (and AAAA if this machine has IPv6) for ${name} pointing at this machine's public address`);
  }
  const here = resolved.addresses.filter((a) => local.includes(a));
  const elsewhere = resolved.addresses.filter((a) => !local.includes(a));
  const has = `this machine has ${reachableAddresses(local).join(", ")}`;
  if (elsewhere.length === 0) return ok(check, `${name} resolves to ${here.join(", ")}, an address of this machine`);
  if (here.length === 0) {
    return warn(
      check,
      `${name} resolves to ${elsewhere.join(", ")} while ${has}`,
      `point ${name}'s A/AAAA records at this machine; if it sits behind NAT or a load balancer that forwards port 80 here, this is expected — the canary check shows whether requests arrive`,
    );
  }
  return warn(
    check,
    `${name} resolves to ${resolved.addresses.join(", ")}; ${elsewhere.join(", ")} ${elsewhere.length === 1 ? "is" : "are"} not on this machine (${has})`,
    `the CA may use any of these addresses (Let's Encrypt tries IPv6 first): remove the stale records or make them reach this machine`,
  );
}
