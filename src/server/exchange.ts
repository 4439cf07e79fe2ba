// What every handler receives: the request, the response, and what the edge already worked
// out about them (host, decoded path, whether the connection is TLS, who the client is).
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import http2, { Http2ServerRequest, type Http2ServerResponse } from "node:http2";
import type { Duplex } from "node:stream";
import type { Client } from "./client-address.js";

export type Request = IncomingMessage | Http2ServerRequest;
// HTTP/2 compatibility responses behave like ServerResponse for everything handlers use.
export type Response = ServerResponse;

export interface Exchange {
  req: Request;
  res: Response;
  /** Lower-case host name without port. */
  host: string;
  /**
   * The host and port the request was routed on, as sent: an absolute-form target's (RFC 9112
   * puts it before Host), else HTTP/2's :authority, else Host. What an upstream is told as Host.
   */
  authority: string;
  /**
   * The path of the URL, always starting with "/": normalised (request-target.ts), otherwise
   * percent-encoded as sent.
   */
  path: string;
  /** The query string including "?", or "". */
  search: string;
  secure: boolean;
  /** The client (trusted-proxy aware): for forwarding headers and the access log. */
  client: Client;
  /** When this exchange started (performance.now(), ms): for the access log and metrics. */
  startedAt: number;
  /**
   * Body bytes sent, for the access log: set by handlers that pass their headers to writeHead
   * (getHeader sees none of those) or stream without Content-Length.
   */
  bytesSent?: number;
}

/** An HTTP/1.1 Upgrade request (WebSocket): the raw socket instead of a response. */
export interface UpgradeExchange extends Omit<Exchange, "req" | "res"> {
  req: IncomingMessage;
  socket: Duplex;
  /** Bytes the client sent after the request head. */
  head: Buffer;
  /** The status answered when the upgrade was refused (the access log's; 101 when joined). */
  status?: number;
}

export type Handler = (ex: Exchange) => void | Promise<void>;
export type UpgradeHandler = (ex: UpgradeExchange) => void;

export function asResponse(res: ServerResponse | Http2ServerResponse): Response {
  return res as unknown as Response;
}

/** Whether the request came on an HTTP/2 stream: decided by the connection, never by the version a client wrote. */
export function isHttp2(req: Request): req is Http2ServerRequest {
  return req instanceof Http2ServerRequest;
}

/** A short plain-text answer: errors, redirects, challenge tokens. */
export function sendText(res: Response, status: number, body: string, headers: Record<string, string> = {}): void {
  const bytes = Buffer.from(body.endsWith("\n") ? body : body + "\n", "utf8");
  // Set one by one (not passed to writeHead), so the access log can read content-length back.
  res.setHeader("content-type", "text/plain; charset=utf-8");
  res.setHeader("content-length", bytes.length);
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
  res.writeHead(status);
  res.end(bytes);
}

/** HTTP/1 connections whose current response is their last: what a client pipelined after it is not served. */
const lastResponseSent = new WeakSet<Duplex>();

/**
 * Ends the connection (HTTP/1.1) or the stream (HTTP/2) once this response is sent, for answers
 * given before the request body was read: the rest of the body is not worth receiving.
 */
export function closeAfterResponse(req: Request, res: Response): void {
  if (isHttp2(req)) {
    res.once("finish", () => req.stream.close(http2.constants.NGHTTP2_NO_ERROR));
  } else {
    markLastResponse(req.socket);
    if (!res.headersSent) res.setHeader("connection", "close");
  }
}

/** Marks an HTTP/1 connection as ending after the response it is sending. */
export function markLastResponse(socket: Duplex): void {
  lastResponseSent.add(socket);
}

/** Whether an HTTP/1 connection ends after its current response (requests behind it are not served). */
export function connectionClosing(socket: Duplex): boolean {
  return lastResponseSent.has(socket);
}

/**
 * Whether an HTTP/1 request came after its connection's last response: pipelined behind a request
 * that said Connection: close or that padlock refused. Node parses and hands on such requests
 * anyway; serving them would act on requests whose answers nobody reads (and after a refusal,
 * on bytes padlock already judged malformed), so they are dropped, as nginx does.
 */
export function afterLastResponse(req: Request, res: Response): boolean {
  if (isHttp2(req)) return false;
  if (lastResponseSent.has(req.socket)) return true;
  if (!res.shouldKeepAlive) lastResponseSent.add(req.socket);
  return false;
}

/**
 * Answers with a redirect. A location on this site ("/path") never starts with "//" or "/\\",
 * which browsers read as another host.
 */
export function redirect(ex: Exchange, location: string, status = 308): void {
  if (ex.res.headersSent) return;
  const safe = location.charCodeAt(0) === SLASH ? location.replace(/^[/\\]+/, "/") : location;
  sendText(ex.res, status, `Redirecting to ${safe}`, { location: safe });
}

const SLASH = 0x2f;

/** A complete HTTP/1.1 response for a socket that never became an HTTP response object. */
export function rawResponse(status: number, body: string, extra: Record<string, string> = {}): string {
  const text = body + "\n";
  const fields = Object.entries({ "content-type": "text/plain; charset=utf-8", "content-length": String(Buffer.byteLength(text)), connection: "close", ...extra })
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join("");
  return `HTTP/1.1 ${status} ${http.STATUS_CODES[status] ?? ""}\r\n${fields}\r\n${text}`;
}
