// Check: a site's DNS-01 setup works before a CA is asked. RFC 2136: the update server answers
// for the zone, a signed test update adds and removes a harmless TXT value at each
// `_acme-challenge` name (the key's permission is proven where it matters), and the value shows
// at every authoritative server through the configured resolver. Exec hook: the program exists
// and is executable. Both: the authoritative servers the propagation check asks answer for the zone.
import { randomBytes } from "node:crypto";
import { accessSync, constants, statSync } from "node:fs";
import path from "node:path";
import type { DnsProvider } from "../../config/schema.js";
import type { AuthoritativeTxtCheck } from "../../acme/dns01/authoritative.js";
import { createDns01Provider } from "../../acme/dns01/from-config.js";
import { challengeRecordName } from "../../config/dns-settings.js";
import { Dns01Error, type Dns01ErrorKind } from "../../acme/dns01/provider.js";
import type { Rfc2136Provider } from "../../acme/dns01/rfc2136.js";
import { fail, ok, warn, type CheckResult } from "../check-result.js";

export interface Dns01CheckOptions {
  dns: DnsProvider;
  hosts: string[];
  /** Where the settings are in the config, e.g. `sites[0].tls.dns`. */
  configKey: string;
  /** The config file's folder (a hook's relative path starts there). */
  baseDir: string;
  resolver?: string;
  /** How long the test record may take to show at the authoritative servers. */
  timeoutMs: number;
}

export async function checkDns01(o: Dns01CheckOptions): Promise<CheckResult[]> {
  const { dns, configKey } = o;
  const recordNames = [...new Set(o.hosts.map(challengeRecordName))];
  const context = { configKey, baseDir: o.baseDir, resolver: o.resolver };
  try {
    if (dns.provider === "exec") {
      const provider = createDns01Provider(dns, context);
      return [checkHook(dns.command, o.baseDir, configKey, o.hosts[0]!), await checkNameservers(provider.check, recordNames[0]!, undefined, configKey)];
    }
    const provider = createDns01Provider(dns, context);
    const server = `DNS-01 server ${dns.server}`;
    let zone: string;
    try {
      zone = await provider.checkServer(recordNames[0]!);
    } catch (err) {
      return [fail(server, message(err), fixFor(err, configKey))];
    }
    const results = [ok(server, `answers for zone ${zone}`), await checkNameservers(provider.check, recordNames[0]!, zone, configKey)];
    const nameserversOk = results[1]!.status === "ok";
    for (const fqdn of recordNames) results.push(...(await testUpdate(provider, dns.tsig_name, fqdn, nameserversOk, o)));
    return results;
  } catch (err) {
    return [fail(`DNS-01 ${configKey}`, message(err), fixFor(err, configKey))];
  }
}

/** Adds a TXT value nobody validates against, waits for it at the authoritative servers, removes it. */
async function testUpdate(provider: Rfc2136Provider, keyName: string, fqdn: string, lookForIt: boolean, o: Dns01CheckOptions): Promise<CheckResult[]> {
  const check = `DNS-01 update ${fqdn}`;
  const value = `padlock-doctor-${randomBytes(6).toString("hex")}`;
  try {
    await provider.present(fqdn, value);
  } catch (err) {
    return [fail(check, `a signed test update adding a TXT value at ${fqdn} failed: ${message(err)}`, fixFor(err, o.configKey))];
  }
  const results: CheckResult[] = [];
  if (lookForIt) {
    const started = performance.now();
    const propagation = `DNS-01 propagation ${fqdn}`;
    try {
      await provider.waitVisible(fqdn, value, new Date(Date.now() + o.timeoutMs));
      results.push(ok(propagation, `the test value showed at every authoritative server within ${((performance.now() - started) / 1000).toFixed(1)} s (${provider.check.sources(await provider.zoneOf(fqdn))})`));
    } catch (err) {
      const slow = err instanceof Dns01Error && err.kind === "not-visible";
      results.push(
        (slow ? warn : fail)(
          propagation,
          message(err),
          slow ? "padlock waits up to 2 minutes when it issues; if a server never shows the record, it is not updated from the primary (check zone transfers and NOTIFY)" : fixFor(err, o.configKey),
        ),
      );
    }
  }
  try {
    await provider.cleanup(fqdn, value);
  } catch (err) {
    return [fail(check, `the test value "${value}" was added at ${fqdn}, but removing it failed: ${message(err)}`, `remove it by hand; ${fixFor(err, o.configKey)}`), ...results];
  }
  return [ok(check, `a signed update (TSIG key ${keyName}) added and removed a test TXT value at ${fqdn}`), ...results];
}

/** The servers the propagation check asks each answer for the zone with authority. */
async function checkNameservers(check: AuthoritativeTxtCheck, fqdn: string, zone: string | undefined, configKey: string): Promise<CheckResult> {
  const row = `DNS-01 name servers ${fqdn.replace(/^_acme-challenge\./, "")}`;
  try {
    const { zone: found, servers, source } = await check.reachability(fqdn, zone);
    const failing = servers.filter((s) => s.problem !== undefined);
    const what = found ? `zone ${found}` : fqdn;
    if (failing.length === 0) return ok(row, `${servers.map((s) => s.name).join(", ")} answer${servers.length === 1 ? "s" : ""} for ${what} with authority (${source})`);
    return fail(
      row,
      `${failing.map((s) => `${s.name}: ${s.problem}`).join("; ")} (${source})`,
      `padlock waits until every one of these servers shows the record; ${nameserversFix(configKey)}`,
    );
  } catch (err) {
    return fail(row, message(err), fixFor(err, configKey));
  }
}

/** The hook's program: found (a relative path from the config file's folder, a bare name on PATH) and executable. */
export function checkHook(command: string, baseDir: string, configKey: string, host: string): CheckResult {
  const row = `DNS-01 hook ${host}`;
  const program = /^\s*(?:'([^']*)'|"([^"]*)"|(\S+))/.exec(command);
  const word = program ? (program[1] ?? program[2] ?? program[3]!) : "";
  if (word === "" || /[$`;|&<>()=]/.test(word)) {
    return warn(row, `cannot tell which program ${JSON.stringify(command)} runs`, `try it by hand: cd ${baseDir} && ${command} add _acme-challenge.example.com. test`);
  }
  const where = `${configKey}.command`;
  const file = word.includes("/") ? path.resolve(baseDir, word) : onPath(word);
  if (!file) return fail(row, `"${word}" (${where}) is not a program on PATH (${process.env.PATH ?? ""})`, `install it, or write its full path in ${where}`);
  let isFile: boolean;
  try {
    isFile = statSync(file).isFile();
  } catch {
    return fail(row, `${file} (${where}) does not exist`, `create it, or fix ${where}: a relative path starts at the config file's folder, ${baseDir}`);
  }
  if (!isFile) return fail(row, `${file} (${where}) is not a file`, `point ${where} at the hook program`);
  if (!executable(file)) return fail(row, `${file} (${where}) is not executable`, `chmod +x ${file}`);
  return ok(row, `${file} exists and is executable; it runs as COMMAND add|remove NAME VALUE from ${baseDir}`);
}

function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(":").filter(Boolean)) {
    const candidate = path.join(dir, name);
    if (executable(candidate)) return candidate;
  }
  return undefined;
}

function executable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    // root may "execute" anything; a program needs an x bit for anyone else.
    return (statSync(file).mode & 0o111) !== 0;
  } catch {
    return false;
  }
}

function nameserversFix(configKey: string): string {
  return `set resolver: to a DNS server that knows the zone, or list the zone's authoritative servers (host:port) in ${configKey}.nameservers`;
}

const FIXES: Partial<Record<Dns01ErrorKind, (configKey: string) => string>> = {
  "bad-settings": (k) => `fix ${k}`,
  "bad-tsig-key": (k) => `check tsig_name, tsig_algorithm and tsig_secret in ${k} against the key configured on the DNS server`,
  "key-not-permitted": () => "allow the key to update TXT records at this name on the DNS server (the README's DNS-01 section has Knot and BIND examples)",
  "unknown-zone": (k) => `check zone and server in ${k}; ${nameserversFix(k)}`,
  unreachable: (k) => `check server in ${k} (the zone's primary, host:port), that it runs, and that this machine may reach it`,
  "update-failed": () => "look at the DNS server's log for why it failed the update",
  "not-visible": nameserversFix,
};

function fixFor(err: unknown, configKey: string): string {
  const fix = err instanceof Dns01Error ? FIXES[err.kind] : undefined;
  return fix ? fix(configKey) : `check ${configKey}`;
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
