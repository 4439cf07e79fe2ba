// One line per request once it is done: JSON (default) or the common log format.
import type { Socket } from "node:net";
import type { TLSSocket } from "node:tls";
import type { Exchange, UpgradeExchange } from "./exchange.js";

export type AccessLogFormat = "json" | "common" | "off";

export interface AccessEntry {
  time: string;
  client: string;
  host: string;
  method: string;
  path: string;
  status: number;
  bytes: number;
  duration_ms: number;
  protocol: string;
  tls: string | null;
  referer?: string;
  user_agent?: string;
  /** True when the client left before the response was complete. */
  aborted?: boolean;
}

export class AccessLog {
  constructor(
    readonly format: AccessLogFormat,
    private readonly write: (line: string) => void,
  ) {}

  get enabled(): boolean {
    return this.format !== "off";
  }

  /** Logs the exchange when its response is finished or abandoned. */
  track(ex: Exchange): void {
    if (!this.enabled) return;
    const tls = tlsVersion(ex);
    ex.res.on("close", () => { // once per response: `on` spares the wrapper `once` makes
      const length = Number(ex.res.getHeader("content-length"));
      const bytes = ex.bytesSent ?? (Number.isFinite(length) ? length : 0);
      this.record(ex, tls, ex.res.statusCode, ex.req.method === "HEAD" ? 0 : bytes, !ex.res.writableFinished);
    });
  }

  /** Logs an upgrade once its socket closes (status 101 when it was joined to the upstream). */
  trackUpgrade(ex: UpgradeExchange, status: () => number): void {
    if (!this.enabled) return;
    const tls = tlsVersion(ex);
    ex.socket.once("close", () => this.record(ex, tls, status(), (ex.socket as Partial<Socket>).bytesWritten ?? 0, false));
  }

  private record(ex: Exchange | UpgradeExchange, tls: string | null, status: number, bytes: number, aborted: boolean): void {
    const entry: AccessEntry = {
      time: new Date().toISOString(),
      client: ex.client.ip,
      host: ex.host,
      method: ex.req.method ?? "",
      path: ex.path + ex.search,
      status,
      bytes,
      duration_ms: Math.round(Number(process.hrtime.bigint() - ex.startedAt) / 1e3) / 1e3,
      protocol: `HTTP/${ex.req.httpVersion}`.replace("HTTP/2.0", "HTTP/2"),
      tls,
    };
    const referer = ex.req.headers.referer;
    const userAgent = ex.req.headers["user-agent"];
    if (referer) entry.referer = referer;
    if (userAgent) entry.user_agent = userAgent;
    if (aborted) entry.aborted = true;
    this.write(this.format === "json" ? JSON.stringify(entry) + "\n" : commonLine(entry));
  }
}

/** Read when the request starts: an HTTP/2 session's socket may be gone when the stream closes. */
function tlsVersion(ex: Exchange | UpgradeExchange): string | null {
  return ex.secure ? ((ex.req.socket as Partial<TLSSocket> | null)?.getProtocol?.() ?? null) : null;
}

/** NCSA common log format: host ident authuser [date] "request" status bytes. */
function commonLine(e: AccessEntry): string {
  const d = new Date(e.time);
  const months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
  const pad = (n: number) => String(n).padStart(2, "0");
  const date = `${pad(d.getUTCDate())}/${months[d.getUTCMonth()]}/${d.getUTCFullYear()}:${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} +0000`;
  return `${e.client} - - [${date}] "${e.method} ${e.path} ${e.protocol}" ${e.status} ${e.bytes === 0 ? "-" : e.bytes}\n`;
}
