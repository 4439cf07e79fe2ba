// padlock in the test process, on 127.0.0.1, with its program log and access log captured.
import { writeFileSync } from "node:fs";
import path from "node:path";
import { loadConfigFile } from "../../src/config/load.js";
import type { Config } from "../../src/config/schema.js";
import { Padlock } from "../../src/padlock.js";
import type { CertificateTuning } from "../../src/certificates/start-certificates.js";
import { captureLog, type LogLine } from "./env.js";
import type { TestPki } from "./tls.js";

export type { LogLine };

export interface StartOptions {
  /** Folder relative paths in the config resolve against (default: the current folder). */
  baseDir?: string;
  /** Default 0: a port the OS chooses. */
  httpPort?: number;
  /** Default 0: a port the OS chooses; false: no HTTPS listener. */
  httpsPort?: number | false;
  tuning?: CertificateTuning;
  watch?: boolean;
  /** A certificate installed at start for `certNames` (default: every site's hosts). */
  pki?: TestPki;
  certNames?: string[];
}

export interface RunningPadlock {
  padlock: Padlock;
  httpPort: number;
  httpsPort: number;
  /** http://127.0.0.1:httpPort */
  base: string;
  /** The program log, parsed. */
  logs: LogLine[];
  messages(): string[];
  /** Raw access log lines. */
  access: string[];
  close(): Promise<void>;
}

export function startPadlock(config: Config, options: StartOptions & { httpsPort: false }): Promise<Omit<RunningPadlock, "httpsPort">>;
export function startPadlock(config: Config, options?: StartOptions): Promise<RunningPadlock>;
export async function startPadlock(config: Config, options: StartOptions = {}): Promise<Omit<RunningPadlock, "httpsPort"> & { httpsPort?: number }> {
  const { log, lines: logs, messages } = captureLog();
  const access: string[] = [];
  const padlock = await Padlock.start({
    config,
    baseDir: options.baseDir ?? process.cwd(),
    log,
    httpPort: options.httpPort ?? 0,
    httpsPort: options.httpsPort === false ? undefined : (options.httpsPort ?? 0),
    listen: "127.0.0.1",
    watch: options.watch,
    certificateTuning: options.tuning,
    accessLogSink: (line) => access.push(line),
  });
  if (options.pki) padlock.certificates.install(options.pki.key, options.pki.cert, options.certNames ?? config.sites.flatMap((s) => s.hosts), options.pki.notAfter);
  const httpPort = padlock.edge.httpPort!;
  return {
    padlock,
    httpPort,
    httpsPort: padlock.edge.httpsPort,
    base: `http://127.0.0.1:${httpPort}`,
    logs,
    messages,
    access,
    close: () => padlock.close(),
  };
}

/** Writes `config` to dir/padlock.yaml and loads it as the CLI does (checked like a user's file). */
export function loadConfigIn(dir: string, config: Record<string, unknown>): Config {
  const file = path.join(dir, "padlock.yaml");
  writeFileSync(file, JSON.stringify(config, null, 2));
  return loadConfigFile(file);
}
