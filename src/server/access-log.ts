// One line per request once it is done: JSON (default) or the common log format.
//
// This runs for every request, so the line is built by hand: JSON.stringify of an entry object
// and a Date formatted per request cost more than the rest of answering a page from memory.
import type { Socket } from "node:net";
import type { TLSSocket } from "node:tls";
import type { Exchange, Response, UpgradeExchange } from "./exchange.js";

export type AccessLogFormat = "json" | "common" | "off";

/**
 * A JSON line holds, in this order: time (ISO 8601), client, host, method, path (with query),
 * status, bytes, duration_ms, protocol, tls (version or null), then referer, user_agent and
 * aborted (the client left before the response was complete) only when there is one.
 */
export class AccessLog {
  constructor(
    readonly format: AccessLogFormat,
    private readonly write: (line: string) => void,
  ) {}

  get enabled(): boolean {
    return this.format !== "off";
  }

  /** Logs an exchange whose response is finished or abandoned; `tls` from tlsVersion() at its start. */
  logExchange(ex: Exchange, tls: string | null): void {
    const res = ex.res;
    const bytes = ex.req.method === "HEAD" ? 0 : (ex.bytesSent ?? contentLengthOf(res));
    this.record(ex, tls, res.statusCode, bytes, !res.writableFinished);
  }

  /** Logs an upgrade once its socket closes (status 101 when it was joined to the upstream). */
  trackUpgrade(ex: UpgradeExchange): void {
    if (!this.enabled) return;
    const tls = tlsVersion(ex);
    ex.socket.once("close", () => this.record(ex, tls, ex.status ?? 101, (ex.socket as Partial<Socket>).bytesWritten ?? 0, false));
  }

  private record(ex: Exchange | UpgradeExchange, tls: string | null, status: number, bytes: number, aborted: boolean): void {
    const req = ex.req;
    const method = req.method ?? "";
    const path = ex.path + ex.search;
    const protocol = protocolOf(req.httpVersion);
    if (this.format === "common") {
      this.write(`${ex.client.ip} - - [${commonDateNow()}] "${method} ${path} ${protocol}" ${status} ${bytes === 0 ? "-" : bytes}\n`);
      return;
    }
    const durationUs = Math.round(Number(process.hrtime.bigint() - ex.startedAt) / 1e3);
    // The peer's address, a checked host name (see hostOf) and an HTTP token (the method) need
    // no escaping; the path, the client's own headers and what a proxy reported may hold anything.
    const client = ex.client.ip === ex.client.peer ? `"${ex.client.ip}"` : JSON.stringify(ex.client.ip);
    let line =
      `{"time":"${isoNow()}","client":${client},"host":"${ex.host}","method":"${method}","path":${JSON.stringify(path)},` +
      `"status":${status},"bytes":${bytes},"duration_ms":${millisecondsOf(durationUs)},"protocol":"${protocol}","tls":${tls === null ? "null" : `"${tls}"`}`;
    const referer = req.headers.referer;
    const userAgent = req.headers["user-agent"];
    if (referer) line += `,"referer":${JSON.stringify(referer)}`;
    if (userAgent) line += `,"user_agent":${JSON.stringify(userAgent)}`;
    if (aborted) line += `,"aborted":true`;
    this.write(line + "}\n");
  }
}

/** Read when the request starts: an HTTP/2 session's socket may be gone when the stream closes. */
export function tlsVersion(ex: Pick<Exchange, "secure" | "req">): string | null {
  return ex.secure ? ((ex.req.socket as Partial<TLSSocket> | null)?.getProtocol?.() ?? null) : null;
}

/** Content-Length as set with setHeader (handlers that pass headers to writeHead set ex.bytesSent). */
function contentLengthOf(res: Response): number {
  const length = Number(res.getHeader("content-length"));
  return Number.isFinite(length) ? length : 0;
}

/** 71 → "0.071", 12345 → "12.345": integers format faster than a fractional number does. */
function millisecondsOf(us: number): string {
  const fraction = us % 1000;
  return `${(us - fraction) / 1000}.${fraction < 10 ? "00" : fraction < 100 ? "0" : ""}${fraction}`;
}

function protocolOf(httpVersion: string): string {
  return httpVersion === "1.1" ? "HTTP/1.1" : httpVersion === "2.0" ? "HTTP/2" : `HTTP/${httpVersion}`;
}

// The time is formatted once a second; each line adds only its milliseconds.
let clockSecond = -1;
let isoPrefix = "";
let commonDate = "";
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

function tick(second: number): void {
  clockSecond = second;
  const d = new Date(second * 1000);
  isoPrefix = d.toISOString().slice(0, 20); // "2026-11-28T20:59:53."
  const pad = (n: number) => String(n).padStart(2, "0");
  commonDate = `${pad(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} +0000`;
}

/** Now, as Date.prototype.toISOString writes it. */
function isoNow(): string {
  const now = Date.now();
  const second = Math.floor(now / 1000);
  if (second !== clockSecond) tick(second);
  const ms = now - second * 1000;
  return `${isoPrefix}${ms < 10 ? "00" : ms < 100 ? "0" : ""}${ms}Z`;
}

/** Now, as the NCSA common log format writes it: 28/Nov/2026:20:59:53 +0000. */
function commonDateNow(): string {
  const second = Math.floor(Date.now() / 1000);
  if (second !== clockSecond) tick(second);
  return commonDate;
}

/**
 * Gathers log lines into chunks before they reach `out`, as nginx's `access_log … buffer=64k
 * flush=1s` does: each write to the log's file descriptor costs tens of microseconds (a thread
 * pool hand-off, a pipe reader woken). Each line is encoded into the chunk as it comes: kept as
 * strings until the chunk is full, a few hundred lines' worth of string pieces would outlive
 * young-generation collections and be copied, then promoted, by them. On a quiet server a line
 * goes out at most `maxDelayMs` later.
 */
export class LineBatcher {
  private chunk: Buffer;
  private used = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly out: (chunk: Buffer) => void,
    private readonly chunkBytes = 64 * 1024,
    private readonly maxDelayMs = 1000,
  ) {
    this.chunk = Buffer.allocUnsafe(chunkBytes);
  }

  readonly write = (line: string): void => {
    const most = line.length * 3; // UTF-8 bytes a JavaScript string of this length can take
    if (this.used + most > this.chunkBytes) {
      this.flush();
      if (most > this.chunkBytes) return this.out(Buffer.from(line));
    }
    this.used += this.chunk.write(line, this.used);
    if (this.timer === undefined) this.timer = setTimeout(this.flush, this.maxDelayMs).unref();
  };

  readonly flush = (): void => {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.used === 0) return;
    // `out` may hold on to the bytes until they are written: the next lines go to a new chunk.
    const full = this.chunk.subarray(0, this.used);
    this.chunk = Buffer.allocUnsafe(this.chunkBytes);
    this.used = 0;
    this.out(full);
  };
}
