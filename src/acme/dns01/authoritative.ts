// Waits until a TXT record can be seen at every authoritative server of its zone. The CA asks
// those servers (through its own resolver, with no stale cache to hope for), so asking a
// recursive resolver here would prove nothing: find the zone and its NS through a resolver,
// then ask each name server directly, without recursion.
import { Resolver } from "node:dns/promises";
import { setTimeout as sleep } from "node:timers/promises";
import { Dns01Error } from "./provider.js";
import { formatServer, query, type DnsServer } from "./dns-client.js";

export interface AuthoritativeCheckOptions {
  /** Resolvers (host:port) used to find a zone's SOA and NS and the NS addresses (default: the system's). */
  resolvers?: string[];
  /** Port the name servers answer on (53; tests run theirs elsewhere). */
  nameserverPort?: number;
  pollIntervalMs?: number;
  queryTimeoutMs?: number;
}

export interface Nameserver {
  name: string;
  addresses: string[];
}

export class AuthoritativeTxtCheck {
  private readonly resolver: Resolver;
  private readonly nameserverPort: number;
  private readonly pollIntervalMs: number;
  private readonly queryTimeoutMs: number;

  constructor(options: AuthoritativeCheckOptions = {}) {
    this.queryTimeoutMs = options.queryTimeoutMs ?? 2000;
    this.resolver = new Resolver({ timeout: this.queryTimeoutMs, tries: 2 });
    if (options.resolvers) this.resolver.setServers(options.resolvers);
    this.nameserverPort = options.nameserverPort ?? 53;
    this.pollIntervalMs = options.pollIntervalMs ?? 500;
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
          throw new Dns01Error("unreachable", `cannot find the DNS zone of ${fqdn}: looking up the SOA of ${candidate} failed (${code})`);
        }
      }
    }
    throw new Dns01Error("unknown-zone", `no DNS zone contains ${fqdn} (no SOA record found for it or any parent name)`);
  }

  async nameservers(zone: string): Promise<Nameserver[]> {
    let names: string[];
    try {
      names = await this.resolver.resolveNs(zone);
    } catch (err) {
      throw new Dns01Error("unknown-zone", `cannot find the name servers of zone ${zone} (NS lookup: ${(err as NodeJS.ErrnoException).code})`);
    }
    const servers = await Promise.all(
      names.map(async (name) => {
        const [v4, v6] = await Promise.all([this.resolver.resolve4(name).catch(() => []), this.resolver.resolve6(name).catch(() => [])]);
        return { name, addresses: [...v4, ...v6] };
      }),
    );
    const usable = servers.filter((s) => s.addresses.length > 0);
    if (usable.length === 0) throw new Dns01Error("unknown-zone", `the name servers of zone ${zone} (${names.join(", ")}) have no addresses`);
    return usable;
  }

  async waitVisible(fqdn: string, value: string, deadline: Date, zone?: string): Promise<void> {
    const servers = await this.nameservers(zone ?? (await this.findZone(fqdn)));
    const pending = new Map(servers.map((s) => [s.name, s]));
    const lastSeen = new Map<string, string>();
    for (;;) {
      for (const server of [...pending.values()]) {
        const seen = await this.look(server, fqdn, value);
        if (seen === true) pending.delete(server.name);
        else lastSeen.set(server.name, seen);
      }
      if (pending.size === 0) return;
      const left = deadline.getTime() - Date.now();
      if (left <= 0) {
        const detail = [...pending.keys()].map((name) => `${name}: ${lastSeen.get(name)}`).join("; ");
        throw new Dns01Error(
          "not-visible",
          `the TXT record ${fqdn} "${value}" did not appear at every authoritative server by ${deadline.toISOString()} (${detail})`,
        );
      }
      await sleep(Math.min(this.pollIntervalMs, left));
    }
  }

  /** true when one of the server's addresses answers with the value, else what it answered. */
  private async look(server: Nameserver, fqdn: string, value: string): Promise<true | string> {
    let answer = "no answer";
    for (const host of server.addresses) {
      const target: DnsServer = { host, port: this.nameserverPort };
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

function txtValue(data: unknown): string {
  const parts = Array.isArray(data) ? data : [data];
  return parts.map((p) => (Buffer.isBuffer(p) ? p.toString("utf8") : String(p))).join("");
}
