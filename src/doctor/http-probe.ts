// One HTTP(S) GET to a chosen address, the way a CA or a curious admin would send it, with
// every outcome kept (status, headers, body, or the network error) so messages can say
// exactly what came back. Redirects are reported, not followed.
import http from "node:http";
import https from "node:https";
import { isIP } from "node:net";
import type { IncomingHttpHeaders } from "node:http";

export interface ProbeTarget {
  /** Connect here (an IP address or a host the system resolves). */
  address: string;
  port: number;
  /** Host header (and TLS server name). */
  host: string;
  path: string;
  tls?: { ca?: string[] };
}

export type ProbeOutcome =
  | { kind: "response"; status: number; headers: IncomingHttpHeaders; body: string; sentAt: number; receivedAt: number }
  | { kind: "error"; code: string; message: string };

const MAX_BODY = 64 * 1024;

export function probeHttp(target: ProbeTarget, timeoutMs: number): Promise<ProbeOutcome> {
  return new Promise((resolve) => {
    const sentAt = Date.now();
    const options = {
      host: target.address,
      port: target.port,
      path: target.path,
      method: "GET",
      headers: { host: target.host, "user-agent": "padlock-doctor", accept: "*/*", connection: "close" },
      agent: false as const,
    };
    const req = target.tls
      ? https.request({ ...options, servername: isIP(target.host) ? undefined : target.host, ca: target.tls.ca })
      : http.request(options);
    const timer = setTimeout(() => req.destroy(Object.assign(new Error("timed out"), { code: "ETIMEDOUT" })), timeoutMs);
    req.on("response", (res) => {
      const receivedAt = Date.now();
      const chunks: Buffer[] = [];
      let size = 0;
      res.on("data", (chunk: Buffer) => {
        if (size < MAX_BODY) chunks.push(chunk);
        size += chunk.length;
      });
      res.on("end", () => {
        clearTimeout(timer);
        resolve({
          kind: "response",
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).subarray(0, MAX_BODY).toString("utf8"),
          sentAt,
          receivedAt,
        });
      });
      res.on("error", (err) => {
        clearTimeout(timer);
        resolve(errorOutcome(err));
      });
    });
    req.on("error", (err) => {
      clearTimeout(timer);
      resolve(errorOutcome(err));
    });
    req.end();
  });
}

function errorOutcome(err: Error): ProbeOutcome {
  return { kind: "error", code: (err as NodeJS.ErrnoException).code ?? "ERROR", message: err.message };
}

/** "127.0.0.1:80" or "[::1]:80". */
export function addressPort(address: string, port: number): string {
  return address.includes(":") ? `[${address}]:${port}` : `${address}:${port}`;
}

/** The network error in plain words. */
export function describeNetworkError(code: string, message: string, timeoutMs: number): string {
  switch (code) {
    case "ETIMEDOUT":
      return `no answer within ${timeoutMs / 1000} s (a firewall dropping packets, or nothing at that address)`;
    case "ECONNREFUSED":
      return "connection refused: nothing listens on that port there";
    case "ECONNRESET":
      return "the connection was reset before an answer came";
    case "EHOSTUNREACH":
    case "ENETUNREACH":
      return "that address cannot be reached from here";
    case "DEPTH_ZERO_SELF_SIGNED_CERT":
    case "SELF_SIGNED_CERT_IN_CHAIN":
    case "UNABLE_TO_VERIFY_LEAF_SIGNATURE":
    case "UNABLE_TO_GET_ISSUER_CERT_LOCALLY":
      return `its TLS certificate is not trusted (${code})`;
    case "ERR_TLS_CERT_ALTNAME_INVALID":
      return "its TLS certificate does not cover that name";
    case "CERT_HAS_EXPIRED":
      return "its TLS certificate has expired";
    default:
      return `${message} (${code})`;
  }
}

export function isUntrustedCertificate(code: string): boolean {
  return /CERT|SELF_SIGNED|VERIFY/.test(code) && code !== "ERR_TLS_CERT_ALTNAME_INVALID";
}

/** "404 with Server: nginx", "301 redirect to https://…", "200". */
export function describeResponse(status: number, headers: IncomingHttpHeaders): string {
  const parts = [String(status)];
  if (status >= 300 && status < 400 && headers.location) parts.push(`redirect to ${headers.location}`);
  parts.push(headers.server ? `with Server: ${headers.server}` : "with no Server header");
  return parts.join(" ");
}
