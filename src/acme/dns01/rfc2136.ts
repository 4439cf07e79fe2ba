// DNS-01 through RFC 2136 dynamic updates signed with TSIG: works with BIND, Knot, PowerDNS
// and hosted DNS services that accept updates. Each change adds or deletes exactly one TXT
// value, so records for other names or other pending challenges are left alone.
import dnsPacket from "dns-packet";
import { Dns01Error, type Dns01Provider } from "./provider.js";
import type { AuthoritativeTxtCheck } from "./authoritative.js";
import { formatServer, isInZone, parseServer, type DnsServer } from "../../config/dns-settings.js";
import { DnsUnreachableError, exchange, newMessageId, query, type DnsTransport } from "./dns-client.js";
import { TSIG_ERRORS, readTsig, signMessage, verifyAnswer, type TsigKey } from "./tsig.js";
import { CLASS_IN, CLASS_NONE, TYPE_SOA, TYPE_TXT, encodeName, encodeRecord, txtRdata, u16 } from "./wire.js";

export interface Rfc2136Options {
  /** The primary server accepting updates, host:port (port 53 by default). */
  server: string;
  /** The zone to update; found from the server's SOA answers when absent. */
  zone?: string;
  key: TsigKey;
  check: AuthoritativeTxtCheck;
  transport?: DnsTransport;
  timeoutMs?: number;
  ttl?: number;
  /** Where these settings are in the config, named in error messages (e.g. `sites[0].tls.dns`). */
  configKey?: string;
}

/** TTL of the records added: short, so no resolver keeps a challenge value long. */
const RECORD_TTL_S = 60;
const OPCODE_UPDATE = 5 << 11;
const RCODES: Record<number, string> = { 0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP", 5: "REFUSED", 6: "YXDOMAIN", 7: "YXRRSET", 8: "NXRRSET", 9: "NOTAUTH", 10: "NOTZONE" };

export class Rfc2136Provider implements Dns01Provider {
  readonly description: string;
  private readonly server: DnsServer;
  private readonly configKey: string;
  private readonly zones = new Map<string, Promise<string>>();

  readonly check: AuthoritativeTxtCheck;

  constructor(private readonly options: Rfc2136Options) {
    this.check = options.check;
    this.configKey = options.configKey ?? "tls.dns";
    const server = parseServer(options.server);
    if (!server) {
      throw new Dns01Error("bad-settings", `server in ${this.configKey} is "${options.server}"; expected host or host:port (port 1-65535), e.g. ns1.example.com:53 or [2001:db8::53]:53`);
    }
    this.server = server;
    this.description = `RFC 2136 update to ${formatServer(this.server)}${options.zone ? ` (zone ${options.zone})` : ""}`;
  }

  async present(fqdn: string, value: string): Promise<void> {
    await this.update(fqdn, value, CLASS_IN, this.options.ttl ?? RECORD_TTL_S);
  }

  async cleanup(fqdn: string, value: string): Promise<void> {
    // Class NONE with TTL 0 deletes this one value (RFC 2136 section 2.5.4).
    await this.update(fqdn, value, CLASS_NONE, 0);
  }

  async waitVisible(fqdn: string, value: string, deadline: Date, stopping?: AbortSignal): Promise<void> {
    await this.check.waitVisible(fqdn, value, deadline, { zone: await this.zoneOf(fqdn), signal: stopping });
  }

  /** The configured zone, or the one the server says holds `fqdn` (asked once per name). */
  zoneOf(fqdn: string): Promise<string> {
    if (this.options.zone) {
      const zone = this.options.zone.replace(/\.$/, "").toLowerCase();
      if (!isInZone(fqdn, zone)) {
        return Promise.reject(new Dns01Error("bad-settings", `zone "${zone}" in ${this.configKey} does not contain ${fqdn}: set zone to the zone that holds that name, or leave it out to have padlock ask the server`));
      }
      return Promise.resolve(zone);
    }
    let zone = this.zones.get(fqdn);
    if (!zone) {
      zone = this.findZoneAtServer(fqdn);
      zone.catch(() => this.zones.delete(fqdn));
      this.zones.set(fqdn, zone);
    }
    return zone;
  }

  /** Asks the server for the SOA of the zone holding `fqdn`: resolves with the zone when it serves it. */
  async checkServer(fqdn: string): Promise<string> {
    const zone = await this.zoneOf(fqdn);
    if (!this.options.zone) return zone; // found at the server itself
    const answer = await this.send(() => query(this.server, zone, "SOA", this.exchangeOptions()));
    if (!(answer.answers ?? []).some((r) => r.type === "SOA")) {
      throw new Dns01Error("unknown-zone", `the DNS server at ${formatServer(this.server)} does not serve zone "${zone}" (asked for its SOA, it answered ${answer.rcode}): check zone and server in ${this.configKey}`);
    }
    return zone;
  }

  private async findZoneAtServer(fqdn: string): Promise<string> {
    const labels = fqdn.replace(/\.$/, "").split(".");
    for (let i = 0; i < labels.length; i++) {
      const name = labels.slice(i).join(".");
      const answer = await this.send(() => query(this.server, name, "SOA", this.exchangeOptions()));
      if (answer.rcode === "REFUSED" || answer.rcode === "NOTAUTH") {
        throw new Dns01Error(
          "unknown-zone",
          `the DNS server at ${formatServer(this.server)} serves no zone containing ${fqdn} (it answered ${answer.rcode} when asked for the SOA of ${name}): ` +
            `set zone in ${this.configKey}, or point server there at the primary server of that zone`,
        );
      }
      const soa = [...(answer.answers ?? []), ...(answer.authorities ?? [])].find((r) => r.type === "SOA");
      if (soa) return soa.name.toLowerCase();
    }
    throw new Dns01Error("unknown-zone", `the DNS server at ${formatServer(this.server)} gave no SOA for ${fqdn} or its parents: set zone in ${this.configKey}`);
  }

  private async update(fqdn: string, value: string, klass: number, ttl: number): Promise<void> {
    const zone = await this.zoneOf(fqdn);
    const header = Buffer.concat([u16(newMessageId()), u16(OPCODE_UPDATE), u16(1), u16(0), u16(1), u16(0)]);
    const message = Buffer.concat([
      header,
      encodeName(zone),
      u16(TYPE_SOA),
      u16(CLASS_IN),
      encodeRecord(fqdn, TYPE_TXT, klass, ttl, txtRdata(value)),
    ]);
    const signed = signMessage(message, this.options.key);
    const answer = await this.send(() => exchange(this.server, signed.message, this.exchangeOptions()));
    await this.checkAnswer(answer, signed.mac, zone, fqdn);
  }

  private async checkAnswer(answer: Buffer, requestMac: Buffer, zone: string, fqdn: string): Promise<void> {
    const at = formatServer(this.server);
    const key = this.options.key;
    const rcode = answer.readUInt16BE(2) & 0x0f;
    const tsigError = readTsig(answer)?.error ?? 0;
    const permission =
      `let the key "${key.name}" update TXT records at ${fqdn} in the zone's update ACL on the server (Knot: an acl on the zone with this key, action: update, and the name in its update-owner-name if it has one; ` +
      `BIND: update-policy { grant ${key.name.replace(/\.?$/, ".")} name ${fqdn}. TXT; }), or set tsig_name in ${this.configKey} to a key that may`;
    if (tsigError === 17) {
      // Knot answers BADKEY both for a key it does not have and for one the zone's ACL does not
      // allow to update: a signed query tells them apart when the zone lists the key at all.
      if (await this.keyKnown(zone)) {
        throw new Dns01Error(
          "key-not-permitted",
          `the DNS server at ${at} knows the TSIG key "${key.name}" (it signs its answers for zone "${zone}" with it) but does not let it update ${fqdn} (BADKEY): ${permission}`,
        );
      }
      throw new Dns01Error(
        "bad-tsig-key",
        `the DNS server at ${at} does not accept the TSIG key "${key.name}" with algorithm ${key.algorithm} for zone "${zone}" (BADKEY): either the server has no such key ` +
          `(check tsig_name and tsig_algorithm in ${this.configKey} against the key configured on the server), or the zone's update ACL does not name it at all (${permission})`,
      );
    }
    if (tsigError === 16) {
      throw new Dns01Error(
        "bad-tsig-key",
        `the DNS server at ${at} rejected the signature made with the TSIG key "${key.name}" (BADSIG): tsig_secret in ${this.configKey} is not that key's secret (or tsig_algorithm is not the key's algorithm)`,
      );
    }
    if (tsigError === 18) {
      throw new Dns01Error("bad-tsig-key", `the DNS server at ${at} rejected the TSIG time (BADTIME): this machine's clock and the server's differ by more than 5 minutes`);
    }
    if (tsigError !== 0) {
      throw new Dns01Error("bad-tsig-key", `the DNS server at ${at} rejected the TSIG key "${key.name}" (${TSIG_ERRORS[tsigError] ?? `TSIG error ${tsigError}`})`);
    }
    if (rcode === 5 && verifyAnswer(answer, key, requestMac) === undefined) {
      // A signed refusal: the server checked the key and its update policy said no (BIND).
      throw new Dns01Error("key-not-permitted", `the DNS server at ${at} accepted the TSIG key "${key.name}" but refused to let it update ${fqdn} in zone "${zone}" (REFUSED): ${permission}`);
    }
    if (rcode === 9 || rcode === 10 || rcode === 5) {
      throw new Dns01Error(
        "unknown-zone",
        `the DNS server at ${at} refused to update ${fqdn} in zone "${zone}" (${RCODES[rcode]}): it is not the primary server of that zone, or the key "${key.name}" may not update it. ` +
          `Check zone and server in ${this.configKey}, and the server's update policy`,
      );
    }
    if (rcode !== 0) {
      throw new Dns01Error("update-failed", `the DNS server at ${at} failed to update ${fqdn} in zone "${zone}" (${RCODES[rcode] ?? `rcode ${rcode}`})`);
    }
    const problem = verifyAnswer(answer, key, requestMac);
    if (problem) throw new Dns01Error("update-failed", `the DNS server at ${at} accepted the update of ${fqdn}, but ${problem}; not trusting it`);
  }

  /** Whether the server answers a query for the zone signed with the key, with a signature that verifies. */
  private async keyKnown(zone: string): Promise<boolean> {
    const message = dnsPacket.encode({ type: "query", id: newMessageId(), flags: 0, questions: [{ type: "SOA", name: zone, class: "IN" }] });
    const signed = signMessage(message, this.options.key);
    try {
      const answer = await exchange(this.server, signed.message, this.exchangeOptions());
      return readTsig(answer)?.error === 0 && verifyAnswer(answer, this.options.key, signed.mac) === undefined;
    } catch {
      return false;
    }
  }

  private async send<T>(exchangeOnce: () => Promise<T>): Promise<T> {
    try {
      return await exchangeOnce();
    } catch (err) {
      if (err instanceof DnsUnreachableError) {
        throw new Dns01Error("unreachable", `${err.message}: check server in ${this.configKey} (host:port of the zone's primary server) and that it is running`);
      }
      throw err;
    }
  }

  private exchangeOptions() {
    return { transport: this.options.transport, timeoutMs: this.options.timeoutMs };
  }
}
