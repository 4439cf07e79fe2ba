// A front before Pebble: passes every ACME request through (Host kept, so Pebble's URLs point
// back at the front), records what padlock sent (newOrder payloads with `replaces` and
// `profile`), and adds what Pebble 2.4 lacks: ARI (`renewalInfo`, with windows the test
// chooses) and advertised profiles.
import https from "node:https";
import { readFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import type { TestContext } from "node:test";
import { Agent, request } from "undici";
import { freePort } from "./env.js";
import { startPebble, type Pebble } from "./pebble.js";

export type WindowAnswer = { start: Date; end: Date; retryAfterSeconds?: number } | "error" | undefined;

export interface FrontOptions {
  /** Offer ARI in the directory (default true). */
  ari?: boolean;
  profiles?: Record<string, string>;
  /** The window for a certificate's ARI id; "error" answers HTTP 500, undefined answers 404. */
  window?: (ariId: string) => WindowAnswer;
  /** Refuse the first N new orders with a rateLimited problem and this Retry-After. */
  rateLimitOrders?: { count: number; retryAfterSeconds: number };
  /**
   * Sees each request before it goes to Pebble, and again with Pebble's answer before padlock
   * gets it (a test kills padlock at a step of an order); "drop" closes the connection instead.
   */
  intercept?: {
    before?: (request: RecordedRequest) => Promise<"drop" | void> | "drop" | void;
    after?: (request: RecordedRequest, answer: { status: number; body: unknown }) => Promise<"drop" | void> | "drop" | void;
  };
}

export interface RecordedRequest {
  method: string;
  path: string;
  /** Decoded JWS payload of POSTs, when it is JSON. */
  payload?: Record<string, unknown>;
  /** The account URL a POST was signed for (the JWS protected header's kid). */
  kid?: string;
  /** Date.now() when it arrived. */
  at: number;
}

export interface AcmeFront {
  directoryUrl: string;
  requests: RecordedRequest[];
  /** newOrder payloads, in order. */
  orders(): Record<string, unknown>[];
  ariQueries: string[];
  setWindow(fn: (ariId: string) => WindowAnswer): void;
  stop(): Promise<void>;
}

const NEW_ORDER_PATH = "/order-plz";
const ARI_PATH = "/ari/renewal-info";

export async function startAcmeFront(pebble: Pebble, options: FrontOptions = {}): Promise<AcmeFront> {
  const agent = new Agent({ connect: { ca: pebble.apiRootPem } });
  const requests: RecordedRequest[] = [];
  const ariQueries: string[] = [];
  let windowOf = options.window ?? (() => undefined);

  const server = https.createServer({ cert: readFileSync(pebble.apiCertFile), key: readFileSync(pebble.apiKeyFile) }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      void (async () => {
        const body = Buffer.concat(chunks);
        const path = req.url ?? "/";
        const recorded: RecordedRequest = { method: req.method ?? "GET", path, ...decodeJws(body), at: Date.now() };
        requests.push(recorded);
        if ((await options.intercept?.before?.(recorded)) === "drop") return void res.destroy();
        const limit = options.rateLimitOrders;
        if (limit && req.method === "POST" && path === NEW_ORDER_PATH && requests.filter((r) => r.method === "POST" && r.path === NEW_ORDER_PATH).length <= limit.count) {
          return send(res, 429, { type: "urn:ietf:params:acme:error:rateLimited", detail: "too many new orders recently (test)" }, { "retry-after": String(limit.retryAfterSeconds) });
        }
        if (path.startsWith(ARI_PATH + "/")) {
          const id = path.slice(ARI_PATH.length + 1);
          ariQueries.push(id);
          const answer = windowOf(id);
          if (answer === "error") return send(res, 500, { type: "urn:ietf:params:acme:error:serverInternal", detail: "ARI is broken (test)" });
          if (!answer) return send(res, 404, { type: "urn:ietf:params:acme:error:malformed", detail: "unknown certificate" });
          return send(res, 200, { suggestedWindow: { start: answer.start.toISOString(), end: answer.end.toISOString() } }, answer.retryAfterSeconds ? { "retry-after": String(answer.retryAfterSeconds) } : {});
        }
        const upstream = await request(`${pebble.origin}${path}`, {
          method: (req.method ?? "GET") as "GET",
          headers: { ...req.headers, host: req.headers.host },
          body: body.length ? body : undefined,
          dispatcher: agent,
        });
        const headers = { ...upstream.headers };
        delete headers["content-length"];
        delete headers["transfer-encoding"];
        let data = Buffer.from(await upstream.body.arrayBuffer());
        if (path === "/dir") {
          const dir = JSON.parse(data.toString("utf8")) as Record<string, unknown> & { meta?: Record<string, unknown> };
          if (options.ari !== false) dir.renewalInfo = `https://${req.headers.host}${ARI_PATH}`;
          if (options.profiles) dir.meta = { ...dir.meta, profiles: options.profiles };
          data = Buffer.from(JSON.stringify(dir));
        }
        if (options.intercept?.after) {
          const answer = { status: upstream.statusCode, body: parseJson(data) };
          if ((await options.intercept.after(recorded, answer)) === "drop") return void res.destroy();
        }
        res.writeHead(upstream.statusCode, { ...headers, "content-length": data.length });
        res.end(data);
      })().catch((err: Error) => send(res, 502, { detail: `front: ${err.message}` }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    directoryUrl: `https://127.0.0.1:${port}/dir`,
    requests,
    orders: () => requests.filter((r) => r.method === "POST" && r.path === NEW_ORDER_PATH && r.payload).map((r) => r.payload!),
    ariQueries,
    setWindow: (fn) => {
      windowOf = fn;
    },
    stop: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await agent.close();
    },
  };
}

function parseJson(data: Buffer): unknown {
  try {
    return JSON.parse(data.toString("utf8"));
  } catch {
    return data.toString("utf8");
  }
}

function decodeJws(body: Buffer): { payload?: Record<string, unknown>; kid?: string } {
  const decode = (part: string | undefined) => {
    try {
      return part ? (JSON.parse(Buffer.from(part, "base64url").toString("utf8")) as Record<string, unknown>) : undefined;
    } catch {
      return undefined;
    }
  };
  let jws: { payload?: string; protected?: string };
  try {
    jws = JSON.parse(body.toString("utf8")) as typeof jws;
  } catch {
    return {};
  }
  const kid = decode(jws.protected)?.kid;
  return { payload: decode(jws.payload), kid: typeof kid === "string" ? kid : undefined };
}

function send(res: import("node:http").ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const data = JSON.stringify(body);
  res.writeHead(status, { "content-type": status >= 400 ? "application/problem+json" : "application/json", "content-length": Buffer.byteLength(data), ...headers });
  res.end(data);
}

/** Pebble (HTTP-01 to a free port) behind a front, both stopped when the test ends. */
export async function startFrontedPebble(t: TestContext, options: FrontOptions = {}): Promise<{ httpPort: number; pebble: Pebble; front: AcmeFront }> {
  const httpPort = await freePort();
  const pebble = await startPebble({ httpPort });
  t.after(() => pebble.stop());
  const front = await startAcmeFront(pebble, options);
  t.after(() => front.stop());
  return { httpPort, pebble, front };
}
