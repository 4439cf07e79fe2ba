// `padlock serve`: work out what to serve (serve-target.ts), start,
// reload the config file on SIGHUP, and stop cleanly on SIGINT/SIGTERM.
import { loadConfigFile } from "../config/load.js";
import { ConfigError } from "../config/problems.js";
import { errorCode } from "../errors.js";
import { fail } from "./exit.js";
import { createLogger, type LogFormat, type Logger } from "../log.js";
import { Padlock } from "../padlock.js";
import { serveTarget } from "./serve-target.js";
import { collectAfterStart } from "./start-up-memory.js";
import { describeHolder, findPortHolder } from "../doctor/port-holder.js";

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
  const { config, baseDir, configFile, httpPort, httpsPort, note } = serveTarget(flags);
  if (note) log.info(note);

  const padlock = await collectAfterStart(() =>
    Padlock.start({
      config,
      baseDir,
      log,
      httpPort,
      httpsPort,
      listen: flags.listen,
      watch: flags.watch,
    }),
  ).catch((err: unknown) => {
    const e = err as NodeJS.ErrnoException & { address?: string; port?: number };
    if (e.code === "EADDRINUSE") fail(portInUse(e.port!, e.address));
    if (e.code === "EACCES") fail(`not allowed to listen on port ${e.port}; ports below 1024 need root or the capability CAP_NET_BIND_SERVICE: in a container add --cap-add NET_BIND_SERVICE, elsewhere run sudo setcap cap_net_bind_service=+ep "$(readlink -f "$(which node)")"`);
    // The same stable codes a library user branches on (src/errors.ts).
    const code = errorCode(err);
    if (code === "INTERNAL_CA") fail(`${(err as Error).message}\npadlock: error code ${code}`);
    if (code) {
      process.stderr.write(`padlock: ${(err as Error).message}\npadlock: error code ${code}\n`);
      process.exit(2);
    }
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
  if (configFile) {
    let reloading = Promise.resolve();
    process.on("SIGHUP", () => {
      reloading = reloading.then(() => reloadFrom(configFile, padlock, log));
    });
  }
}

/** Which program holds the port, as the doctor finds it (by name and pid when this user may see it). */
function portInUse(port: number, address: string | undefined): string {
  const holder = findPortHolder(port);
  const who = holder ? `by ${describeHolder(holder)}` : "by a program this user cannot see (sudo ss -ltnp shows it)";
  return `port ${port} is already in use on ${address ?? "this machine"} ${who}; stop that program, or choose another port (--http-port/--https-port, http_port:/https_port:)`;
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
