// padlock in the test process, from a config written to a file and loaded like the CLI does,
// with its log lines captured; and HTTPS clients that report which certificate they were served.
import https from "node:https";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { execFile } from "node:child_process";
import type { TLSSocket } from "node:tls";
import { pino } from "pino";
import { loadConfigFile } from "../../src/config/load.js";
import { Padlock } from "../../src/padlock.js";
import type { CertificateTuning } from "../../src/acme/start-certificates.js";

export interface LogLine {
  level: number;
  msg: string;
  [k: string]: unknown;
}

export interface RunningPadlock {
  padlock: Padlock;
  httpPort: number;
  httpsPort: number;
  logs: LogLine[];
  messages(): string[];
  close(): Promise<void>;
}

export async function startPadlock(o: { dir: string; config: Record<string, unknown>; httpPort: number; httpsPort?: number; tuning?: CertificateTuning }): Promise<RunningPadlock> {
  const file = path.join(o.dir, "padlock.yaml");
  writeFileSync(file, JSON.stringify(o.config, null, 2));
  const config = loadConfigFile(file);
  const logs: LogLine[] = [];
  const log = pino({ level: "debug", base: undefined }, { write: (line: string) => void logs.push(JSON.parse(line) as LogLine) });
  const padlock = await Padlock.start({ config, baseDir: o.dir, log, httpPort: o.httpPort, httpsPort: o.httpsPort ?? 0, listen: "127.0.0.1", certificateTuning: o.tuning });
  return {
    padlock,
    httpPort: padlock.edge.httpPort!,
    httpsPort: padlock.edge.httpsPort!,
    logs,
    messages: () => logs.map((l) => l.msg),
    close: () => padlock.close(),
  };
}

export interface TlsAnswer {
  status: number;
  serial: string;
  names: string;
  protocol: string;
}

/** One HTTPS request on a new connection (so a new handshake), verified against `rootPem`. */
export function httpsGet(name: string, port: number, rootPem: string, pathname = "/"): Promise<TlsAnswer> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      { host: "127.0.0.1", port, servername: name, path: pathname, headers: { host: `${name}:${port}` }, ca: rootPem, agent: false },
      (res) => {
        const socket = res.socket as TLSSocket;
        const cert = socket.getPeerCertificate();
        res.resume();
        res.on("end", () => resolve({ status: res.statusCode ?? 0, serial: cert.serialNumber, names: cert.subjectaltname ?? "", protocol: socket.getProtocol() ?? "" }));
      },
    );
    req.on("error", reject);
    req.setTimeout(10_000, () => req.destroy(new Error("timed out")));
    req.end();
  });
}

/** Real curl, verifying against the given root file; resolves to curl's exit code, HTTP status and stderr. */
export function curl(name: string, port: number, rootFile: string): Promise<{ code: number; status: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      "curl",
      ["-sS", "--max-time", "10", "--cacert", rootFile, "--resolve", `${name}:${port}:127.0.0.1`, "-o", "/dev/null", "-w", "%{http_code}", `https://${name}:${port}/`],
      { env: { PATH: process.env.PATH } },
      (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, status: stdout.trim(), stderr }),
    );
  });
}
