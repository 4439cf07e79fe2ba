// What every handler receives: the request, the response, and what the edge already worked
// out about them (host, decoded path, whether the connection is TLS).
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Http2ServerRequest, Http2ServerResponse } from "node:http2";

export type Request = IncomingMessage | Http2ServerRequest;
// HTTP/2 compatibility responses behave like ServerResponse for everything handlers use.
export type Response = ServerResponse;

export interface Exchange {
  req: Request;
  res: Response;
  /** Lower-case host name without port. */
  host: string;
  /** The raw path of the URL (percent-encoded, as sent), always starting with "/". */
  path: string;
  /** The query string including "?", or "". */
  search: string;
  secure: boolean;
  /** Where this exchange started, for the access log. */
  startedAt: bigint;
}

export type Handler = (ex: Exchange) => void | Promise<void>;

export function asResponse(res: ServerResponse | Http2ServerResponse): Response {
  return res as unknown as Response;
}

/** A short plain-text answer: errors, redirects, challenge tokens. */
export function sendText(res: Response, status: number, body: string, headers: Record<string, string> = {}): void {
  const bytes = Buffer.from(body.endsWith("\n") ? body : body + "\n", "utf8");
  res.writeHead(status, { "content-type": "text/plain; charset=utf-8", "content-length": bytes.length, ...headers });
  res.end(bytes);
}

export function redirect(ex: Exchange, location: string, status = 308): void {
  if (ex.res.headersSent) return;
  sendText(ex.res, status, `Redirecting to ${location}`, { location });
}
