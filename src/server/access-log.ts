// One line per request once it is done: JSON (default) or the common log format.
//
// This runs for every request, so it is built for speed. A request only notes its fields; the
// lines are formatted a batch at a time, while the formatting code and data stay in the CPU's
// caches: formatted one by one between socket writes, they cost about 6 % more of the CPU time
// of answering a page from memory (bench/serve). The lines are built by hand: JSON.stringify of
// an entry object and a Date formatted per request cost more than the rest of that answer.
import type { Socket } from "node:net";
import type { TLSSocket } from "node:tls";
import { isHttp2, type Exchange, type Response, type UpgradeExchange } from "./exchange.js";

export type AccessLogFormat = "json" | "common" | "off";

/** Where the lines go: `flush` passes on what `write` held back; `end` has it written before the process exits. */
export interface LineSink {
  write(line: string): void;
  flush(): void;
  end?(): void;
}

export interface AccessLogOptions {
  /** Requests noted before their lines are written (default 64; 1 writes each at once). */
  batch?: number;
  /** Longest a line waits for its batch, ms (default 1000). */
  maxDelayMs?: number;
}

/** What a line says about one request. */
interface Entry {
  /** performance.now() when the response was done, and when the request came. */
  doneAt: number;
  startedAt: number;
  client: string;
  peer: string;
  host: string;
  method: string;
  path: string;
  search: string;
  status: number;
  bytes: number;
  httpVersion: string;
  tls: string | null;
  referer: string | undefined;
  userAgent: string | undefined;
  aborted: boolean;
}

/**
 * A JSON line holds, in this order: time (ISO 8601), client, host, method, path (with query),
 * status, bytes, duration_ms, protocol, tls (version or null), then referer, user_agent and
 * aborted (the client left before the response was complete) only when there is one.
 *
 * Lines reach the sink in the order the responses ended, at most `maxDelayMs` later. flush()
 * writes what is noted so far; close() also has the sink write it out (at shutdown).
 */
export class AccessLog {
  private pending: Entry[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly batch: number;
  private readonly maxDelayMs: number;

  constructor(
    private currentFormat: AccessLogFormat,
    private readonly sink: LineSink,
    options: AccessLogOptions = {},
  ) {
    this.batch = options.batch ?? 64;
    this.maxDelayMs = options.maxDelayMs ?? 1000;
  }

  get format(): AccessLogFormat {
    return this.currentFormat;
  }

  /** A config reload's format: lines noted so far are written in the old one. */
  set format(format: AccessLogFormat) {
    this.flush();
    this.currentFormat = format;
  }

  get enabled(): boolean {
    return this.currentFormat !== "off";
  }

  /** Logs an exchange whose response is finished or abandoned; `tls` from tlsVersion() at its start. */
  logExchange(ex: Exchange, tls: string | null): void {
    const res = ex.res;
    const bytes = ex.req.method === "HEAD" ? 0 : (ex.bytesSent ?? contentLengthOf(res));
    this.note(ex, tls, res.statusCode, bytes, !res.writableFinished);
  }

  /** Logs an upgrade once its socket closes (status 101 when it was joined to the upstream). */
  trackUpgrade(ex: UpgradeExchange): void {
    if (!this.enabled) return;
    const tls = tlsVersion(ex);
    ex.socket.once("close", () => this.note(ex, tls, ex.status ?? 101, (ex.socket as Partial<Socket>).bytesWritten ?? 0, false));
  }

  /** Writes every line noted so far and has the sink pass them on. */
  readonly flush = (): void => {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    this.writePending();
    this.sink.flush();
  };

  /** At shutdown: every line noted so far is written out before this returns. */
  close(): void {
    this.flush();
    this.sink.end?.();
  }

  private note(ex: Exchange | UpgradeExchange, tls: string | null, status: number, bytes: number, aborted: boolean): void {
    const req = ex.req;
    this.pending.push({
      doneAt: performance.now(),
      startedAt: ex.startedAt,
      client: ex.client.ip,
      peer: ex.client.peer,
      host: ex.host,
      method: req.method ?? "",
      path: ex.path,
      search: ex.search,
      status,
      bytes,
      // "2" only for an HTTP/2 stream: a request line claiming HTTP/2.0 on an HTTP/1 connection shows as written.
      httpVersion: isHttp2(req) ? "2" : req.httpVersion,
      tls,
      referer: req.headers.referer,
      userAgent: req.headers["user-agent"],
      aborted,
    });
    if (this.pending.length >= this.batch) this.writePending();
    if (this.timer === undefined) this.timer = setTimeout(this.flush, this.maxDelayMs).unref();
  }

  private writePending(): void {
    const entries = this.pending;
    if (entries.length === 0) return;
    this.pending = [];
    const format = this.currentFormat === "common" ? commonLine : jsonLine;
    for (const entry of entries) this.sink.write(format(entry));
  }
}

function jsonLine(e: Entry): string {
  const durationUs = Math.round((e.doneAt - e.startedAt) * 1000);
  // The peer's address, a checked host name (see hostOf) and an HTTP token (the method) need
  // no escaping; the path, the client's own headers and what a proxy reported may hold anything.
  const client = e.client === e.peer ? `"${e.client}"` : jsonString(e.client);
  let line =
    `{"time":"${isoAt(e.doneAt)}","client":${client},"host":"${e.host}","method":"${e.method}","path":${jsonString(e.path + e.search)},` +
    `"status":${e.status},"bytes":${e.bytes},"duration_ms":${millisecondsOf(durationUs)},"protocol":"${protocolOf(e.httpVersion)}","tls":${e.tls === null ? "null" : `"${e.tls}"`}`;
  if (e.referer) line += `,"referer":${jsonString(e.referer)}`;
  if (e.userAgent) line += `,"user_agent":${jsonString(e.userAgent)}`;
  if (e.aborted) line += `,"aborted":true`;
  return line + "}\n";
}

function commonLine(e: Entry): string {
  return `${e.client} - - [${commonDateAt(e.doneAt)}] "${e.method} ${e.path}${e.search} ${protocolOf(e.httpVersion)}" ${e.status} ${e.bytes === 0 ? "-" : e.bytes}\n`;
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

/**
 * A JSON string literal. Paths and user agents rarely hold a character JSON escapes, and a scan
 * in JavaScript costs less than a call into JSON.stringify.
 */
export function jsonString(s: string): string {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x22 || c === 0x5c || c > 0x7e) return JSON.stringify(s);
  }
  return `"${s}"`;
}

/** 71 → "0.071", 12345 → "12.345": integers format faster than a fractional number does. */
function millisecondsOf(us: number): string {
  const fraction = us % 1000;
  return `${(us - fraction) / 1000}.${fraction < 10 ? "00" : fraction < 100 ? "0" : ""}${fraction}`;
}

function protocolOf(httpVersion: string): string {
  return httpVersion === "1.1" ? "HTTP/1.1" : `HTTP/${httpVersion}`;
}

// The time is formatted once a second; each line adds only its milliseconds. The wall clock is
// read once a second too: in between, the time comes from performance.now(), which the line
// reads anyway for its duration.
let clockSecond = -1;
let wallMinusMonotonic = 0;
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

/** The wall-clock time (ms) of a performance.now() reading, with its second formatted. */
function wallClockAt(monotonicMs: number): number {
  let wall = Math.floor(monotonicMs + wallMinusMonotonic);
  if (Math.floor(wall / 1000) !== clockSecond) {
    wallMinusMonotonic = Date.now() - performance.now();
    wall = Math.floor(monotonicMs + wallMinusMonotonic);
    tick(Math.floor(wall / 1000));
  }
  return wall;
}

/** As Date.prototype.toISOString writes it. */
function isoAt(monotonicMs: number): string {
  const ms = wallClockAt(monotonicMs) % 1000;
  return `${isoPrefix}${ms < 10 ? "00" : ms < 100 ? "0" : ""}${ms}Z`;
}

/** As the NCSA common log format writes it: 28/Nov/2026:20:59:53 +0000. */
function commonDateAt(monotonicMs: number): string {
  wallClockAt(monotonicMs);
  return commonDate;
}

/**
 * Gathers log lines into chunks before they reach `out`, as nginx's `access_log … buffer=64k
 * flush=1s` does: each write to the log's file descriptor costs tens of microseconds (a thread
 * pool hand-off, a pipe reader woken). Each line is encoded into the chunk as it comes: kept as
 * strings until the chunk is full, a few hundred lines' worth of string pieces would outlive
 * young-generation collections and be copied, then promoted, by them. The AccessLog decides
 * when a partial chunk goes out (flush).
 */
export class LineBatcher implements LineSink {
  private chunk: Buffer;
  private used = 0;

  constructor(
    private readonly out: (chunk: Buffer) => void,
    private readonly chunkBytes = 64 * 1024,
  ) {
    this.chunk = Buffer.allocUnsafe(chunkBytes);
  }

  write(line: string): void {
    const most = line.length * 3; // UTF-8 bytes a JavaScript string of this length can take
    if (this.used + most > this.chunkBytes) {
      this.flush();
      if (most > this.chunkBytes) return this.out(Buffer.from(line));
    }
    this.used += this.chunk.write(line, this.used);
  }

  flush(): void {
    if (this.used === 0) return;
    // `out` may hold on to the bytes until they are written: the next lines go to a new chunk.
    const full = this.chunk.subarray(0, this.used);
    this.chunk = Buffer.allocUnsafe(this.chunkBytes);
    this.used = 0;
    this.out(full);
  }
}
