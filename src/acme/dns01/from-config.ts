// Builds the DNS-01 provider a site's `tls.dns` settings describe, with the propagation check
// the config asks for (its `resolver:`, the site's `nameservers`).
import type { DnsProvider } from "../../config/schema.js";
import { AuthoritativeTxtCheck } from "./authoritative.js";
import { ExecHookProvider } from "./exec-hook.js";
import { Rfc2136Provider } from "./rfc2136.js";
import { isTsigAlgorithm } from "./tsig.js";

/** Limits tests shorten (the defaults suit real DNS). */
export interface Dns01Tuning {
  /** Each call of an exec hook (default 120 s). */
  hookTimeoutMs?: number;
  /** Between looks at the authoritative servers (default 500 ms). */
  pollIntervalMs?: number;
  /** Port of name servers found through NS records (default 53; tests run theirs elsewhere). */
  nameserverPort?: number;
}

export interface ProviderContext {
  /** Where the settings are in the config, e.g. `sites[1].tls.dns`, named in error messages. */
  configKey: string;
  /** The config file's folder: an exec hook runs there, so relative paths in it start there. */
  baseDir: string;
  /** The config's `resolver:` (default: the system's resolver). */
  resolver?: string;
  tuning?: Dns01Tuning;
}

export function createDns01Provider(settings: Extract<DnsProvider, { provider: "rfc2136" }>, context: ProviderContext): Rfc2136Provider;
export function createDns01Provider(settings: Extract<DnsProvider, { provider: "exec" }>, context: ProviderContext): ExecHookProvider;
export function createDns01Provider(settings: DnsProvider, context: ProviderContext): Rfc2136Provider | ExecHookProvider;
export function createDns01Provider(settings: DnsProvider, context: ProviderContext): Rfc2136Provider | ExecHookProvider {
  const { configKey, tuning } = context;
  const check = new AuthoritativeTxtCheck({
    resolver: context.resolver,
    nameservers: settings.nameservers,
    configKey,
    nameserverPort: tuning?.nameserverPort,
    pollIntervalMs: tuning?.pollIntervalMs,
  });
  if (settings.provider === "exec") {
    return new ExecHookProvider({ command: settings.command, check, cwd: context.baseDir, timeoutMs: tuning?.hookTimeoutMs, configKey: `${configKey}.command` });
  }
  const algorithm = settings.tsig_algorithm ?? "hmac-sha256";
  // The schema admits only these; the check keeps the type honest for callers not using it.
  if (!isTsigAlgorithm(algorithm)) throw new Error(`${configKey}.tsig_algorithm: unsupported TSIG algorithm "${algorithm}"`);
  return new Rfc2136Provider({
    server: settings.server,
    zone: settings.zone,
    key: { name: settings.tsig_name, algorithm, secret: Buffer.from(settings.tsig_secret, "base64") },
    transport: settings.transport,
    check,
    configKey,
  });
}
