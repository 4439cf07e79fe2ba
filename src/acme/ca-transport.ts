// HTTPS to the CA's API. acme-client signs requests and handles nonces; this carries them, with
// keep-alive connections (an order is a dozen requests), an extra trusted root when configured
// (Pebble, a private CA), a timeout, and network failures reported in plain words. Built on
// node:https rather than a client library: it is already loaded, which keeps start-up short.
import http from "node:http";
import https from "node:https";
import tls from "node:tls";
import { problemName } from "./problem-catalogue.js";
import { CaUnreachable } from "./problems.js";

/** How a request to the CA went, for the metrics. */
export type CaRequestOutcome = "ok" | "problem" | "rate_limited" | "unreachable";

export interface CaResponse {
  status: number;
  headers: Record<string, string>;
  data: unknown;
}

export interface CaTransportOptions {
  /** PEM of an extra root trusted for the CA's API (system roots stay trusted). */
  extraRoot?: string;
  timeoutMs?: number;
  /** Told the outcome of every request (metrics). */
  observe?: (outcome: CaRequestOutcome) => void;
}

const UNTRUSTED = new Set(["UNABLE_TO_VERIFY_LEAF_SIGNATURE", "SELF_SIGNED_CERT_IN_CHAIN", "DEPTH_ZERO_SELF_SIGNED_CERT", "UNABLE_TO_GET_ISSUER_CERT_LOCALLY"]);

export class CaTransport {
  private agent: https.Agent;
  private readonly timeoutMs: number;
  private readonly extraRoot?: string;
  private readonly observe?: (outcome: CaRequestOutcome) => void;
  private withSystemRoots = false;
  /** Replay-Nonce values from responses, reused instead of asking newNonce each time. */
  private readonly nonces: string[] = [];

  constructor(options: CaTransportOptions = {}) {
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.extraRoot = options.extraRoot;
    this.observe = options.observe;
    // With an extra root, try it alone first: loading the system roots costs a noticeable part
    // of start-up, and a private CA's API chains to its own root anyway.
    this.agent = newAgent(options.extraRoot ? [options.extraRoot] : undefined);
  }

  async request(url: string, method: string, body?: unknown): Promise<CaResponse> {
    try {
      const res = await this.send(url, method, body);
      this.observe?.(res.status < 400 ? "ok" : res.status === 429 || problemKind(res) === "rateLimited" ? "rate_limited" : "problem");
      return res;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? "";
      if (this.extraRoot && !this.withSystemRoots && UNTRUSTED.has(code)) {
        this.withSystemRoots = true;
        this.agent.destroy();
        this.agent = newAgent([...tls.rootCertificates, this.extraRoot]);
        return this.request(url, method, body);
      }
      this.observe?.("unreachable");
      throw new CaUnreachable(`cannot reach the CA at ${new URL(url).origin}: ${networkReason(code, err as Error)}`);
    }
  }

  takeNonce(): string | undefined {
    return this.nonces.pop();
  }

  /** A nonce handed out another way (newNonce's answer) must not be used twice. */
  discardNonce(nonce: string): void {
    const i = this.nonces.indexOf(nonce);
    if (i >= 0) this.nonces.splice(i, 1);
  }

  async close(): Promise<void> {
    this.agent.destroy();
  }

  private send(url: string, method: string, body?: unknown): Promise<CaResponse> {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    return new Promise((resolve, reject) => {
      // RFC 8555 wants HTTPS; plain http:// is allowed for test CAs on a private network.
      const plain = url.startsWith("http:");
      const req = (plain ? http : https).request(
        url,
        {
          method: method.toUpperCase(),
          agent: plain ? undefined : this.agent,
          headers: payload ? { "content-type": "application/jose+json", "content-length": payload.length } : {},
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("error", reject);
          res.on("end", () => {
            const status = res.statusCode ?? 0;
            const headers: Record<string, string> = {};
            for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(", ") : v;
            const nonce = headers["replay-nonce"];
            // Error answers carry a nonce that acme-client itself retries a badNonce with: not pooled.
            if (nonce && status < 400) this.nonces.push(nonce);
            const text = Buffer.concat(chunks).toString("utf8");
            let data: unknown = text;
            if (/json/.test(headers["content-type"] ?? "") && text) {
              try {
                data = JSON.parse(text);
              } catch {
                data = text;
              }
            }
            resolve({ status, headers, data });
          });
        },
      );
      req.setTimeout(this.timeoutMs, () => req.destroy(Object.assign(new Error("timed out"), { code: "ETIMEDOUT" })));
      req.on("error", reject);
      req.end(payload);
    });
  }
}

function newAgent(ca: string[] | undefined): https.Agent {
  return new https.Agent({ keepAlive: true, ...(ca ? { ca } : {}) });
}

function networkReason(code: string, err: Error): string {
  switch (code) {
    case "ECONNREFUSED":
      return "connection refused (is the CA running, and is the URL's port right?)";
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return "its host name does not resolve";
    case "ETIMEDOUT":
    case "ECONNRESET":
      return code === "ETIMEDOUT" ? "timed out" : "the connection was reset";
    case "ERR_TLS_CERT_ALTNAME_INVALID":
      return "its TLS certificate does not match the host name in the URL";
    default:
      return UNTRUSTED.has(code)
        ? "its TLS certificate is not trusted (for a private CA or Pebble, set ca_root: to the PEM file of its root)"
        : err.message || code || String(err);
  }
}

function problemKind(res: CaResponse): string | undefined {
  const type = typeof res.data === "object" && res.data !== null ? (res.data as { type?: unknown }).type : undefined;
  return typeof type === "string" ? problemName(type) : undefined;
}
