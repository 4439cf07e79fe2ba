// Clients the tests point at padlock: real curl (with the response split up, or just whether a
// verified HTTPS request worked) and one-shot HTTPS requests that report the certificate served.
import { execFile } from "node:child_process";
import https from "node:https";
import type { TLSSocket } from "node:tls";
import { request, type Dispatcher } from "undici";
import type { TestPki } from "./tls.js";

export interface CurlResult {
  status: number;
  httpVersion: string;
  headers: Record<string, string>;
  body: string;
}

/** Runs curl with --include and splits its answer (skipping 1xx heads); rejects when curl fails. */
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

/** GET https://name:port/ with curl, verifying against `rootFile`: curl's exit code, the HTTP status and stderr. */
export function curlHttpsStatus(name: string, port: number, rootFile: string): Promise<{ code: number; status: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      "curl",
      ["-sS", "--max-time", "10", "--cacert", rootFile, "--resolve", `${name}:${port}:127.0.0.1`, "-o", "/dev/null", "-w", "%{http_code}", `https://${name}:${port}/`],
      { env: { PATH: process.env.PATH } },
      (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, status: stdout.trim(), stderr }),
    );
  });
}

export interface TlsAnswer {
  status: number;
  body: string;
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
        let body = "";
        res.setEncoding("utf8").on("data", (chunk: string) => (body += chunk));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body, serial: cert.serialNumber, names: cert.subjectaltname ?? "", protocol: socket.getProtocol() ?? "" }));
      },
    );
    req.on("error", reject);
    req.setTimeout(10_000, () => req.destroy(new Error("timed out")));
    req.end();
  });
}

/** One plain-HTTP request to 127.0.0.1:port with the Host header given (fetch always sends the URL's own host). */
export async function requestAs(
  port: number,
  host: string,
  pathAndQuery = "/",
  options: { method?: Dispatcher.HttpMethod; headers?: Record<string, string> } = {},
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  const res = await request(`http://127.0.0.1:${port}${pathAndQuery}`, { method: options.method ?? "GET", headers: { ...options.headers, host } });
  return { status: res.statusCode, headers: res.headers, body: Buffer.from(await res.body.arrayBuffer()) };
}
