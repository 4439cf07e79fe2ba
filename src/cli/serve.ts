// `padlock serve`: work out the config (file, --site folder, or the bundled example), start,
// reload the config file on SIGHUP, and stop cleanly on SIGINT/SIGTERM.
import path from "node:path";
import { loadConfigFile } from "../config/load.js";
import { ConfigError } from "../config/problems.js";
import { fail, loadConfigOrExit } from "./exit.js";
import type { Config } from "../config/schema.js";
import { createLogger, type LogFormat, type Logger } from "../log.js";
import { Padlock } from "../padlock.js";
import { InternalCaError } from "../tls/internal-ca-error.js";
import { defaultStorageDir, exampleBlogDir } from "../paths.js";
import { StorageError } from "../storage/storage.js";
import { CaSetupError } from "../acme/ca-directory.js";
import { PrivilegeError } from "../system/privileges.js";
import { LOCAL_NAMES } from "../tls/internal-ca-choice.js";

export interface ServeFlags {
  config?: string;
  site?: string;
  httpPort?: number;
  httpsPort?: number;
  listen?: string;
  watch?: boolean;
  logFormat?: LogFormat;
  logLevel?: string;
}

export async function serveCommand(flags: ServeFlags): Promise<void> {
  const log = createLogger({ format: flags.logFormat, level: flags.logLevel });
  let config: Config;
  let baseDir: string;
  if (flags.config) {
    if (flags.site) fail("use either --config or --site, not both (a config file lists its sites itself)");
    config = loadConfigOrExit(flags.config);
    baseDir = path.dirname(path.resolve(flags.config));
  } else {
    const dir = path.resolve(flags.site ?? exampleBlogDir);
    // Both http://localhost:8080 and https://localhost:8443 serve the blog: no redirect on localhost.
    config = { storage: defaultStorageDir(), sites: [{ hosts: LOCAL_NAMES, blog: dir, default: true, http: "serve" }] };
    baseDir = process.cwd();
    if (!flags.site) log.info(`no config given: serving the bundled example blog from ${dir}`);
  }

  const local = !flags.config;
  const padlock = await Padlock.start({
    config,
    baseDir,
    log,
    httpPort: flags.httpPort ?? config.http_port ?? (local ? 8080 : 80),
    httpsPort: flags.httpsPort ?? config.https_port ?? (local ? 8443 : 443),
    listen: flags.listen,
    watch: flags.watch,
  }).catch((err: unknown) => {
    const e = err as NodeJS.ErrnoException & { address?: string; port?: number };
    if (e.code === "EADDRINUSE") fail(`port ${e.port} is already in use on ${e.address}; stop the program holding it or choose another port`);
    if (e.code === "EACCES") fail(`not allowed to listen on port ${e.port}; ports below 1024 need root or: sudo setcap cap_net_bind_service=+ep "$(readlink -f "$(which node)")"`);
    if (err instanceof ConfigError || err instanceof StorageError || err instanceof CaSetupError || err instanceof PrivilegeError) {
      process.stderr.write(`padlock: ${err.message}\n`);
      process.exit(2);
    }
    if (err instanceof InternalCaError) fail(err.message);
    throw err;
  });

  const stop = (signal: string) => {
    log.info(`${signal} received: finishing requests in flight and stopping`);
    padlock.close().then(() => process.exit(0), (err: unknown) => {
      log.error({ err }, "error while stopping");
      process.exit(1);
    });
  };
  process.once("SIGINT", () => stop("SIGINT"));
  process.once("SIGTERM", () => stop("SIGTERM"));
  if (flags.config) {
    const file = flags.config;
    let reloading = Promise.resolve();
    process.on("SIGHUP", () => {
      reloading = reloading.then(() => reloadFrom(file, padlock, log));
    });
  }
}

/** Reads the config file again and switches to it; a config with problems leaves the running one in force. */
async function reloadFrom(file: string, padlock: Padlock, log: Logger): Promise<void> {
  log.info(`SIGHUP received: reloading ${file}`);
  try {
    await padlock.reload(loadConfigFile(file));
  } catch (err) {
    if (err instanceof ConfigError) {
      for (const line of err.message.split("\n")) log.error(`config reload rejected: ${line}`);
    } else {
      log.error({ err }, `config reload failed: ${(err as Error).message}`);
    }
    log.error("the previous config stays in force; fix the file and send SIGHUP again");
  }
}
