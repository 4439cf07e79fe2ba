// Check: a name resolving into a CDN or proxy network means the CA's HTTP-01 request reaches
// the CDN first, which must pass /.well-known/acme-challenge/ through to this machine.
import { BlockList, isIP } from "node:net";
import type { ResolvedAddresses } from "../dns.js";
import { ok, warn, type CheckResult } from "../check-result.js";

// Cloudflare's published ranges (https://www.cloudflare.com/ips/).
const CLOUDFLARE_V4 = [
  "173.245.48.0/20", "103.21.244.0/22", "103.22.200.0/22", "103.31.4.0/22", "141.101.64.0/18", "108.162.192.0/18",
  "190.93.240.0/20", "188.114.96.0/20", "197.234.240.0/22", "198.41.128.0/17", "162.158.0.0/15", "104.16.0.0/13",
  "104.24.0.0/14", "172.64.0.0/13", "131.0.72.0/22",
];
const CLOUDFLARE_V6 = ["2400:cb00::/32", "2606:4700::/32", "2803:f800::/32", "2405:b500::/32", "2405:8100::/32", "2a06:98c0::/29", "2c0f:f248::/32"];

interface Network {
  name: string;
  ranges: BlockList;
}

function network(name: string, v4: string[], v6: string[]): Network {
  const ranges = new BlockList();
  for (const cidr of v4) ranges.addSubnet(cidr.split("/")[0]!, Number(cidr.split("/")[1]), "ipv4");
  for (const cidr of v6) ranges.addSubnet(cidr.split("/")[0]!, Number(cidr.split("/")[1]), "ipv6");
  return { name, ranges };
}

const NETWORKS = [network("Cloudflare", CLOUDFLARE_V4, CLOUDFLARE_V6)];

export function cdnOf(address: string): string | undefined {
  const family = isIP(address);
  if (!family) return undefined;
  return NETWORKS.find((n) => n.ranges.check(address, family === 4 ? "ipv4" : "ipv6"))?.name;
}

export function checkCdnRanges(name: string, resolved: ResolvedAddresses): CheckResult {
  const check = `CDN ${name}`;
  const behind = resolved.addresses.map((a) => ({ address: a, cdn: cdnOf(a) })).filter((x) => x.cdn);
  if (behind.length === 0) return ok(check, `${name} does not resolve into a known CDN or proxy network`);
  const cdn = behind[0]!.cdn!;
  return warn(
    check,
    `${name} resolves to ${behind.map((b) => b.address).join(", ")}, a ${cdn} address: the CA's HTTP-01 request reaches ${cdn} first`,
    `make ${cdn} pass http://${name}/.well-known/acme-challenge/ through to this machine unchanged (no HTTPS redirect or cache rule on that path), or use DNS-01`,
  );
}
