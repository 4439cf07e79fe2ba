// Waits until a TXT record can be seen at every authoritative server of its zone. The CA asks
// those servers (through its own resolver, with no stale cache to hope for), so asking a
// recursive resolver here would prove nothing: find the zone and its NS through the configured
// resolver (the config's `resolver:`, else the system's), then ask each name server directly,
// without recursion. A private or split-horizon zone, or servers on another port, can be named
// instead (a site's `tls.dns.nameservers`). Every message says which resolver or servers were asked.
import { Resolver } from "node:dns/promises";
import { isIP } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { Dns01Error } from "./provider.js";
import { formatServer, parseServer, resolverList, resolverProblem, type DnsServer } from "../../config/dns-settings.js";
import { query } from "./dns-client.js";

export interface AuthoritativeCheckOptions {
  /** The config's `resolver:`, "IP[:PORT]" or several separated by commas (default: the system's resolver). */
  resolver?: string;
  /** Servers to ask instead of the zone's NS records, "host[:port]" (a site's tls.dns.nameservers). */
  nameservers?: string[];
  /** Where the site's DNS settings are in the config, named in messages (e.g. `sites[0].tls.dns`). */
  configKey?: string;
  /** Port the name servers found through NS records answer on (53; tests run theirs elsewhere). */
  nameserverPort?: number;
  pollIntervalMs?: number;
  queryTimeoutMs?: number;
}

export interface Nameserver {
  /** As the zone's NS record or the config names it. */
  name: string;
  addresses: DnsServer[];
}

export interface WaitOptions {
  /** The record's zone, when the caller knows it (else found through the resolver). */
  zone?: string;
  /** Aborted when padlock stops: the wait ends at once. */
  signal?: AbortSignal;
}

export class AuthoritativeTxtCheck {
  /** "resolver 192.0.2.53:53" or "the system resolver (…)", for messages. */
  readonly resolverName: string;
  private readonly resolver: Resolver;
  private readonly configKey: string;
  private readonly nameserverPort: number;
  private readonly pollIntervalMs: number;
  private readonly queryTimeoutMs: number;

  constructor(private readonly options: AuthoritativeCheckOptions = {}) {
    this.queryTimeoutMs = options.queryTimeoutMs ?? 2000;
    this.resolver = new Resolver({ timeout: this.queryTimeoutMs, tries: 2 });
    const problem = resolverProblem(options.resolver);
    if (problem) throw new Dns01Error("bad-settings", `resolver: ${problem}`);
    if (options.resolver) this.resolver.setServers(resolverList(options.resolver));
    this.resolverName = options.resolver ? `resolver ${options.resolver}` : `the system resolver (${this.resolver.getServers().join(", ") || "none configured"})`;
    this.configKey = options.configKey ?? "tls.dns";
    this.nameserverPort = options.nameserverPort ?? 53;
    this.pollIntervalMs = options.pollIntervalMs ?? 500;
  }

  /** Where the servers asked come from, for messages. */
  sources(zone?: string): string {
    if (this.options.nameservers) return `the servers asked are ${this.configKey}.nameservers`;
    return `the name servers${zone ? ` of zone ${zone}` : ""} were found through ${this.resolverName}`;
  }

  private get hint(): string {
    return `set resolver: in the config to a DNS server that knows the zone, or list the zone's authoritative servers (host:port) in ${this.configKey}.nameservers`;
  }

  /** The closest enclosing zone of `fqdn`: the nearest name, walking up, that has an SOA. */
  async findZone(fqdn: string): Promise<string> {
    const labels = fqdn.replace(/\.$/, "").split(".");
    for (let i = 0; i < labels.length; i++) {
      const candidate = labels.slice(i).join(".");
      try {
        await this.resolver.resolveSoa(candidate);
        return candidate;
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== "ENODATA" && code !== "ENOTFOUND") {
          throw new Dns01Error("unreachable", `cannot find the DNS zone of ${fqdn} through ${this.resolverName}: looking up the SOA of ${candidate} failed (${code}); ${this.hint}`);
        }
      }
    }
    throw new Dns01Error("unknown-zone", `no DNS zone contains ${fqdn} according to ${this.resolverName} (no SOA record for it or any parent name); ${this.hint}`);
  }

  /** The servers to ask about `fqdn`: the configured ones, else the NS of its zone (found when not given). */
  async nameservers(fqdn: string, zone?: string): Promise<Nameserver[]> {
    if (this.options.nameservers) return Promise.all(this.options.nameservers.map((spec) => this.configured(spec)));
    const zoneName = zone ?? (await this.findZone(fqdn));
    let names: string[];
    try {
      names = await this.resolver.resolveNs(zoneName);
    } catch (err) {
      throw new Dns01Error("unknown-zone", `cannot find the name servers of zone ${zoneName} through ${this.resolverName} (NS lookup: ${(err as NodeJS.ErrnoException).code}); ${this.hint}`);
    }
    const servers = await Promise.all(names.map(async (name) => ({ name, addresses: (await this.addressesOf(name)).map((host) => ({ host, port: this.nameserverPort })) })));
    const usable = servers.filter((s) => s.addresses.length > 0);
    if (usable.length === 0) {
      throw new Dns01Error("unknown-zone", `the name servers of zone ${zoneName} (${names.join(", ")}) have no addresses according to ${this.resolverName}; ${this.hint}`);
    }
    return usable;
  }

  private async configured(spec: string): Promise<Nameserver> {
    const server = parseServer(spec);
    if (!server) throw new Dns01Error("bad-settings", `"${spec}" in ${this.configKey}.nameservers is not host or host:port`);
    if (isIP(server.host)) return { name: spec, addresses: [server] };
    const addresses = await this.addressesOf(server.host);
    if (addresses.length === 0) {
      throw new Dns01Error("unknown-zone", `${server.host} (${this.configKey}.nameservers) has no address according to ${this.resolverName}; write its IP address there, or set resolver: to a DNS server that knows it`);
    }
    return { name: spec, addresses: addresses.map((host) => ({ host, port: server.port })) };
  }

  private async addressesOf(name: string): Promise<string[]> {
    const [v4, v6] = await Promise.all([this.resolver.resolve4(name).catch(() => []), this.resolver.resolve6(name).catch(() => [])]);
    return [...v4, ...v6];
  }

  /** The zone to name in messages and look up NS for: unneeded when the servers are configured. */
  private async zoneFor(fqdn: string, zone: string | undefined): Promise<string | undefined> {
    return zone ?? (this.options.nameservers ? undefined : await this.findZone(fqdn));
  }

  async waitVisible(fqdn: string, value: string, deadline: Date, options: WaitOptions = {}): Promise<void> {
    const { signal } = options;
    const zone = await this.zoneFor(fqdn, options.zone);
    const servers = await this.nameservers(fqdn, zone);
    const pending = new Map(servers.map((s) => [s.name, s]));
    const lastSeen = new Map<string, string>();
    for (;;) {
      for (const server of [...pending.values()]) {
        if (signal?.aborted) break;
        const seen = await this.look(server, fqdn, value);
        if (seen === true) pending.delete(server.name);
        else lastSeen.set(server.name, seen);
      }
      if (pending.size === 0) return;
      if (signal?.aborted) throw stopped(fqdn, [...pending.keys()]);
      const left = deadline.getTime() - Date.now();
      if (left <= 0) {
        const detail = [...pending.keys()].map((name) => `${name}: ${lastSeen.get(name)}`).join("; ");
        throw new Dns01Error(
          "not-visible",
          `the TXT record ${fqdn} "${value}" did not appear at every authoritative server by ${deadline.toISOString()} (${detail}); ${this.sources(zone)}`,
        );
      }
      await sleep(Math.min(this.pollIntervalMs, left), undefined, { signal }).catch(() => undefined);
    }
  }

  /** Asks each server this check would wait for about the zone's SOA: a problem for each that does not answer with authority. */
  async reachability(fqdn: string, knownZone?: string): Promise<{ zone?: string; servers: { name: string; problem?: string }[]; source: string }> {
    const zone = await this.zoneFor(fqdn, knownZone);
    const servers = await this.nameservers(fqdn, zone);
    const asked = zone ?? fqdn;
    const results = await Promise.all(
      servers.map(async (server) => {
        const problems: string[] = [];
        for (const target of server.addresses) {
          try {
            const answer = await query(target, asked, "SOA", { timeoutMs: this.queryTimeoutMs });
            if (answer.flag_aa && (answer.rcode === "NOERROR" || answer.rcode === "NXDOMAIN")) return { name: server.name };
            problems.push(`${formatServer(target)} answered ${answer.rcode}${answer.flag_aa ? "" : " without authority"} for ${asked}`);
          } catch (err) {
            problems.push((err as Error).message);
          }
        }
        return { name: server.name, problem: problems.join("; ") };
      }),
    );
    return { zone, servers: results, source: this.sources(zone) };
  }

  /** true when one of the server's addresses answers with the value, else what it answered. */
  private async look(server: Nameserver, fqdn: string, value: string): Promise<true | string> {
    let answer = "no answer";
    for (const target of server.addresses) {
      try {
        const response = await query(target, fqdn, "TXT", { timeoutMs: this.queryTimeoutMs });
        const values = (response.answers ?? [])
          .filter((a) => a.type === "TXT" && a.name.toLowerCase() === fqdn.toLowerCase().replace(/\.$/, ""))
          .map((a) => txtValue((a as { data: unknown }).data));
        if (values.includes(value)) return true;
        answer = `${formatServer(target)} answered ${response.rcode}${values.length ? ` with ${values.map((v) => `"${v}"`).join(", ")}` : ", no such TXT value"}`;
      } catch (err) {
        answer = (err as Error).message;
      }
    }
    return answer;
  }
}

function stopped(fqdn: string, pending: string[]): Dns01Error {
  return new Dns01Error("stopped", `padlock is stopping: stopped waiting for the TXT record ${fqdn} to appear at ${pending.join(", ")}`);
}

function txtValue(data: unknown): string {
  const parts = Array.isArray(data) ? data : [data];
  return parts.map((p) => (Buffer.isBuffer(p) ? p.toString("utf8") : String(p))).join("");
}
