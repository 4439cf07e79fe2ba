// HTTPS to the CA's API. acme-client signs requests and handles nonces; this carries them, with
// keep-alive connections (an order is a dozen requests), an extra trusted root when configured
// (Pebble, a private CA), a timeout, and network failures reported in plain words.
import tls from "node:tls";
import { Agent, request } from "undici";
import { CaUnreachable } from "./problems.js";

export interface CaResponse {
  status: number;
  headers: Record<string, string>;
  data: unknown;
}

export interface CaTransportOptions {
  /** PEM of an extra root trusted for the CA's API (system roots stay trusted). */
  extraRoot?: string;
  timeoutMs?: number;
}

export class CaTransport {
  private readonly agent: Agent;
  private readonly timeoutMs: number;
  /** Replay-Nonce values from responses, reused instead of asking newNonce each time. */
  private readonly nonces: string[] = [];

  constructor(options: CaTransportOptions = {}) {
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.agent = new Agent({
      keepAliveTimeout: 10_000,
      connect: options.extraRoot ? { ca: [...tls.rootCertificates, options.extraRoot] } : {},
    });
  }

  async request(url: string, method: string, body?: unknown): Promise<CaResponse> {
    let res;
    try {
      res = await request(url, {
        method: method.toUpperCase() as "GET",
        dispatcher: this.agent,
        headers: body === undefined ? {} : { "content-type": "application/jose+json" },
        body: body === undefined ? undefined : JSON.stringify(body),
        headersTimeout: this.timeoutMs,
        bodyTimeout: this.timeoutMs,
      });
    } catch (err) {
      throw new CaUnreachable(`cannot reach the CA at ${new URL(url).origin}: ${networkReason(err)}`);
    }
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(", ") : v;
    const text = await res.body.text();
    const nonce = headers["replay-nonce"];
    if (nonce) this.nonces.push(nonce);
    const type = headers["content-type"] ?? "";
    let data: unknown = text;
    if (/json/.test(type) && text) {
      try {
        data = JSON.parse(text);
      } catch {
        data = text;
      }
    }
    return { status: res.statusCode, headers, data };
  }

  takeNonce(): string | undefined {
    return this.nonces.pop();
  }

  async close(): Promise<void> {
    await this.agent.close();
  }
}

function networkReason(err: unknown): string {
  const e = err as NodeJS.ErrnoException & { cause?: NodeJS.ErrnoException };
  const code = e.cause?.code ?? e.code;
  switch (code) {
    case "ECONNREFUSED":
      return "connection refused (is the CA running, and is the URL's port right?)";
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return "its host name does not resolve";
    case "UND_ERR_CONNECT_TIMEOUT":
    case "UND_ERR_HEADERS_TIMEOUT":
    case "UND_ERR_BODY_TIMEOUT":
    case "ETIMEDOUT":
      return "timed out";
    case "UNABLE_TO_VERIFY_LEAF_SIGNATURE":
    case "SELF_SIGNED_CERT_IN_CHAIN":
    case "DEPTH_ZERO_SELF_SIGNED_CERT":
    case "UNABLE_TO_GET_ISSUER_CERT_LOCALLY":
      return "its TLS certificate is not trusted (for a private CA or Pebble, set ca_root: to the PEM file of its root)";
    case "ERR_TLS_CERT_ALTNAME_INVALID":
      return "its TLS certificate does not match the host name in the URL";
    default:
      return (e.cause?.message ?? e.message) || String(err);
  }
}
