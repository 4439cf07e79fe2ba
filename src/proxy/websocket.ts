// WebSocket (HTTP/1.1 Upgrade) pass-through: the handshake goes to the upstream with forwarding
// headers; once it answers 101 the two sockets are joined byte for byte. Any other answer is
// relayed as is, so the application's own refusal (401, 403, 426) reaches the client.
import http from "node:http";
import https from "node:https";
import type { Duplex } from "node:stream";
import { clientText, type RepeatLimitedLog } from "../repeat-limited-log.js";
import { rawResponse, type UpgradeExchange } from "../server/exchange.js";
import { upstreamRequestHeaders } from "./forwarding.js";
import type { UpstreamGroup } from "./upstream-pool.js";

export function proxyUpgrade(
  ex: UpgradeExchange,
  group: UpstreamGroup,
  options: { preserveHost: boolean; timeoutMs: number },
  log: RepeatLimitedLog,
): void {
  const upstream = group.pick()!;
  const target = new URL(upstream.origin);
  const headers = upstreamRequestHeaders(ex.req.headers, ex.client, true);
  headers.host = options.preserveHost && ex.authority ? ex.authority : upstream.host;

  const request = (target.protocol === "https:" ? https : http).request({
    host: target.hostname.replace(/^\[|\]$/g, ""),
    port: target.port,
    method: ex.req.method,
    path: upstream.basePath + ex.path + ex.search,
    headers,
    agent: false,
    timeout: options.timeoutMs,
  });

  request.on("upgrade", (res, upstreamSocket, upstreamHead) => {
    group.markHealthy(upstream);
    ex.socket.write(statusLine(res) + headerLines(res.rawHeaders) + "\r\n");
    if (upstreamHead.length > 0) ex.socket.write(upstreamHead);
    if (ex.head.length > 0) upstreamSocket.write(ex.head);
    join(ex.socket, upstreamSocket);
  });
  request.on("response", (res) => {
    // The upstream declined the upgrade: pass its answer on; the body ends with the connection.
    ex.status = res.statusCode;
    const kept = res.rawHeaders.filter((_, i, raw) => !/^(connection|transfer-encoding|content-length)$/i.test(raw[i - (i % 2)]!));
    ex.socket.write(statusLine(res) + headerLines(kept) + "connection: close\r\n\r\n");
    res.pipe(ex.socket);
    res.on("error", () => ex.socket.destroy());
  });
  request.on("timeout", () => request.destroy(Object.assign(new Error("upstream handshake timed out"), { code: "ETIMEDOUT" })));
  request.on("error", (err: NodeJS.ErrnoException) => {
    const timedOut = err.code === "ETIMEDOUT";
    if (timedOut || err.code === "ECONNREFUSED") group.markFailed(upstream);
    const where = { host: ex.host, path: clientText(ex.path), upstream: upstream.label, err: err.code };
    log.warn(`websocket ${upstream.label} ${err.code}`, where, `WebSocket upstream ${upstream.label} failed (${err.code ?? err.message})`);
    if (!ex.socket.destroyed && ex.socket.writable) {
      ex.status = timedOut ? 504 : 502;
      ex.socket.end(timedOut ? rawResponse(504, "Gateway timeout.") : rawResponse(502, "Bad gateway."));
    }
  });
  ex.socket.on("error", () => request.destroy());
  request.end();
}

/** Joins two sockets both ways; either side closing or failing ends the other. */
function join(a: Duplex, b: Duplex): void {
  a.pipe(b);
  b.pipe(a);
  const end = () => {
    a.destroy();
    b.destroy();
  };
  a.on("error", end).on("close", end);
  b.on("error", end).on("close", end);
}

function statusLine(res: http.IncomingMessage): string {
  return `HTTP/1.1 ${res.statusCode} ${res.statusMessage ?? ""}\r\n`;
}

function headerLines(raw: string[]): string {
  let text = "";
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if (/^server$/i.test(raw[i]!)) continue;
    text += `${raw[i]}: ${raw[i + 1]}\r\n`;
  }
  return text;
}

