// Padlock in this process, on loopback ports chosen by the OS, with its log and access log
// captured; and a curl runner that returns status, headers and body.
import { execFile } from "node:child_process";
import { Writable } from "node:stream";
import { pino } from "pino";
import { Padlock } from "../../src/padlock.js";
import type { Config } from "../../src/config/schema.js";
import type { TestPki } from "./tls.js";

export interface RunningPadlock {
  padlock: Padlock;
  httpPort: number;
  httpsPort: number;
  /** Parsed JSON log lines (the program log). */
  logs: Record<string, unknown>[];
  /** Raw access log lines. */
  access: string[];
  close(): Promise<void>;
}

export async function startPadlock(config: Config, options: { pki?: TestPki; certNames?: string[]; baseDir?: string } = {}): Promise<RunningPadlock> {
  const logs: Record<string, unknown>[] = [];
  const access: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split("\n")) if (line) logs.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const padlock = await Padlock.start({
    config,
    baseDir: options.baseDir ?? process.cwd(),
    log: pino({ level: "debug", base: undefined }, sink),
    httpPort: 0,
    httpsPort: 0,
    listen: "127.0.0.1",
    accessLogSink: (line) => access.push(line),
  });
  if (options.pki) padlock.certificates.install(options.pki.key, options.pki.cert, options.certNames ?? config.sites.flatMap((s) => s.hosts), options.pki.notAfter);
  return {
    padlock,
    httpPort: padlock.edge.httpPort!,
    httpsPort: padlock.edge.httpsPort!,
    logs,
    access,
    close: () => padlock.close(),
  };
}

export interface CurlResult {
  status: number;
  httpVersion: string;
  headers: Record<string, string>;
  body: string;
}

/** Runs curl with --include and splits its answer (skipping 1xx heads). */
export function curl(args: string[]): Promise<CurlResult> {
  return new Promise((resolve, reject) => {
    execFile("curl", ["-sS", "--include", "--max-time", "30", ...args], { encoding: "latin1", maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`curl ${args.join(" ")} failed: ${stderr || err.message}`));
      let rest = stdout;
      for (;;) {
        const end = rest.indexOf("\r\n\r\n");
        const head = rest.slice(0, end).split("\r\n");
        rest = rest.slice(end + 4);
        const [version = "", code = "0"] = head[0]!.split(" ");
        const status = Number(code);
        if (status >= 100 && status < 200) continue;
        const headers: Record<string, string> = {};
        for (const line of head.slice(1)) {
          const colon = line.indexOf(":");
          const name = line.slice(0, colon).toLowerCase();
          const value = line.slice(colon + 1).trim();
          headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
        }
        return resolve({ status, httpVersion: version, headers, body: rest });
      }
    });
  });
}

/** curl arguments that reach padlock's HTTPS port by name, trusting the test CA. */
export function httpsArgs(pki: TestPki, name: string, port: number, pathAndQuery = "/"): string[] {
  return ["--cacert", pki.caFile, "--resolve", `${name}:${port}:127.0.0.1`, `https://${name}:${port}${pathAndQuery}`];
}

export function httpArgs(name: string, port: number, pathAndQuery = "/"): string[] {
  return ["--resolve", `${name}:${port}:127.0.0.1`, `http://${name}:${port}${pathAndQuery}`];
}
