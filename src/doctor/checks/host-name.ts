// Check: a host name is one the chosen CA can issue for — valid, and public when the CA is
// public (a public CA validates from the internet and refuses names only a local network knows).
import { BlockList, isIP } from "node:net";
import { hostNameProblem } from "../../config/host-name.js";
import type { CaTarget } from "../ca-target.js";
import { fail, ok, type CheckResult } from "../check-result.js";

// Special-use and widely used private suffixes (RFC 2606, RFC 6761, RFC 6762, RFC 8375, ICANN's .internal).
const NON_PUBLIC_SUFFIXES = ["localhost", "test", "local", "internal", "invalid", "example", "home.arpa", "lan", "home", "corp", "localdomain", "intranet"];

const PRIVATE_ADDRESSES = new BlockList();
for (const [net, bits] of [["10.0.0.0", 8], ["172.16.0.0", 12], ["192.168.0.0", 16], ["127.0.0.0", 8], ["169.254.0.0", 16], ["100.64.0.0", 10], ["0.0.0.0", 8]] as const) {
  PRIVATE_ADDRESSES.addSubnet(net, bits, "ipv4");
}
for (const [net, bits] of [["::1", 128], ["fc00::", 7], ["fe80::", 10], ["::", 128]] as const) PRIVATE_ADDRESSES.addSubnet(net, bits, "ipv6");

/** Why no public CA will issue for this name, or undefined when it is a public name. */
export function nonPublicReason(host: string): string | undefined {
  const family = isIP(host);
  if (family) return PRIVATE_ADDRESSES.check(host, family === 4 ? "ipv4" : "ipv6") ? `${host} is a private or loopback address` : undefined;
  const name = host.replace(/^\*\./, "");
  if (!name.includes(".")) return `"${name}" has no dot: it is not a name in the public DNS`;
  const suffix = NON_PUBLIC_SUFFIXES.find((s) => name === s || name.endsWith("." + s));
  return suffix ? `".${suffix}" names exist only on local networks, not in the public DNS` : undefined;
}

export function checkHostName(host: string, ca: CaTarget, challenges: readonly string[]): CheckResult {
  const check = `host ${host}`;
  const invalid = hostNameProblem(host);
  if (invalid) return fail(check, invalid, "write the name as it is registered in DNS, in lower case");
  if (host.startsWith("*.") && !challenges.includes("dns-01")) {
    return fail(check, `${host} is a wildcard, which only DNS-01 can prove`, "add tls: { challenges: [dns-01], dns: … } to this site, or list the names one by one");
  }
  const reason = nonPublicReason(host);
  if (reason && ca.isPublic) {
    return fail(check, `${reason}; ${ca.name} is a public CA and will refuse it`, `use a public name you own, or ca: internal for local development`);
  }
  if (reason) return ok(check, `${reason}; fine for the CA ${ca.name}, which is not a public CA`);
  return ok(check, `${host} is a valid public DNS name`);
}
