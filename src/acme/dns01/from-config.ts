// Builds the DNS-01 provider a site's `tls.dns` settings describe.
import type { DnsProvider } from "../../config/schema.js";
import { AuthoritativeTxtCheck } from "./authoritative.js";
import { ExecHookProvider } from "./exec-hook.js";
import type { Dns01Provider } from "./provider.js";
import { Rfc2136Provider } from "./rfc2136.js";
import { isTsigAlgorithm } from "./tsig.js";

export interface ProviderContext {
  /** Where the settings are in the config, e.g. `sites[1].tls.dns`, named in error messages. */
  configKey: string;
  /** How to find and ask the zone's authoritative servers (default: through the system resolvers, port 53). */
  check?: AuthoritativeTxtCheck;
}

export function createDns01Provider(settings: DnsProvider, context: ProviderContext): Dns01Provider {
  const check = context.check ?? new AuthoritativeTxtCheck();
  if (settings.provider === "exec") {
    return new ExecHookProvider({ command: settings.command, check, configKey: `${context.configKey}.command` });
  }
  const algorithm = settings.tsig_algorithm ?? "hmac-sha256";
  // The schema admits only these; the check keeps the type honest for callers not using it.
  if (!isTsigAlgorithm(algorithm)) throw new Error(`${context.configKey}.tsig_algorithm: unsupported TSIG algorithm "${algorithm}"`);
  return new Rfc2136Provider({
    server: settings.server,
    zone: settings.zone,
    key: { name: settings.tsig_name, algorithm, secret: Buffer.from(settings.tsig_secret, "base64") },
    transport: settings.transport,
    check,
    configKey: context.configKey,
  });
}
