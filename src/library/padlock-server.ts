// The whole edge (sites, reverse proxy, blog, certificates) inside another program: what
// `padlock serve` runs, started from a config file or a config object, stopped by close().
import path from "node:path";
import { stringify } from "yaml";
import { loadConfigFile, parseConfig } from "../config/load.js";
import { Padlock } from "../padlock.js";
import type { PadlockServer, PadlockServerOptions } from "./api.js";
import { asLogger } from "./logger.js";

/** Starts padlock's edge; throws a PadlockError (CONFIG_INVALID, STORAGE_UNUSABLE, CA_SETUP…) when it cannot. */
export async function createPadlockServer(options: PadlockServerOptions): Promise<PadlockServer> {
  const baseDir = options.baseDir ?? (typeof options.config === "string" ? path.dirname(path.resolve(options.config)) : process.cwd());
  const configOf = (given: string | Record<string, unknown>) => (typeof given === "string" ? loadConfigFile(given) : parseConfig(stringify(given), "(config object)", baseDir));
  const padlock = await Padlock.start({
    config: configOf(options.config),
    baseDir,
    log: asLogger(options.logger),
    httpPort: options.httpPort ?? 80,
    httpsPort: options.httpsPort ?? 443,
    listen: options.listen,
  });
  return {
    get httpPort() {
      return padlock.edge.httpPort;
    },
    get httpsPort() {
      return padlock.edge.httpsPort;
    },
    reload: (config = options.config) => padlock.reload(configOf(config)),
    close: () => padlock.close(),
  };
}
