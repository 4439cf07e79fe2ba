// What the config's DNS values mean: a DNS server written as `host[:port]` (tls.dns.server,
// tls.dns.nameservers), the resolver list (`resolver:`), which zone a name is in, and where
// DNS-01 puts its TXT record. Read by the config checks and by the DNS-01 code alike.
import { Resolver } from "node:dns/promises";
import net from "node:net";

export interface DnsServer {
  host: string;
  port: number;
}

/** "host", "host:port", "[v6]:port" or a bare IPv6 address; undefined when it is none of these. */
export function parseServer(spec: string, defaultPort = 53): DnsServer | undefined {
  if (net.isIPv6(spec)) return { host: spec, port: defaultPort };
  const match = /^\[([0-9a-fA-F:.]+)\](?::(\d{1,5}))?$/.exec(spec) ?? /^([^:\s[\]]+)(?::(\d{1,5}))?$/.exec(spec);
  if (!match) return undefined;
  const port = match[2] ? Number(match[2]) : defaultPort;
  return port >= 1 && port <= 65535 ? { host: match[1]!, port } : undefined;
}

export function formatServer(server: DnsServer): string {
  return net.isIPv6(server.host) ? `[${server.host}]:${server.port}` : `${server.host}:${server.port}`;
}

/** The config's `resolver:` as a list of servers for node:dns. */
export function resolverList(spec: string): string[] {
  return spec.split(",").map((s) => s.trim()).filter(Boolean);
}

/** Why the config's `resolver:` cannot be used, or undefined when it can. */
export function resolverProblem(spec: string | undefined): string | undefined {
  if (spec === undefined) return undefined;
  try {
    const servers = resolverList(spec);
    if (servers.length > 0) {
      new Resolver().setServers(servers);
      return undefined;
    }
  } catch {
    // Reported below.
  }
  return `"${spec}" is not a DNS server address; write IP or IP:PORT (several separated by commas), e.g. 192.0.2.53 or 127.0.0.1:5353 or [::1]:53`;
}

/** Whether `fqdn` is `zone` or a name below it. */
export function isInZone(fqdn: string, zone: string): boolean {
  const name = fqdn.replace(/\.$/, "").toLowerCase();
  const apex = zone.replace(/\.$/, "").toLowerCase();
  return name === apex || name.endsWith(`.${apex}`);
}

/** The name whose TXT record proves control of `identifier` for DNS-01 (a wildcard shares its base name's). */
export function challengeRecordName(identifier: string): string {
  return `_acme-challenge.${identifier.replace(/^\*\./, "").replace(/\.$/, "")}`;
}
