// The reverse proxy: one request in, one request to an upstream out, both bodies streamed with
// backpressure (never held whole). Upstream failures become short error pages and a log line:
// refused or broken → 502, too slow → 504. A request the upstream refused to connect for is
// retried on each other healthy upstream, unless its body was already streamed (small bodies
// are held whole, see PREBUFFER_BYTES, so they can be sent again).
import { Transform, type Readable, type TransformCallback } from "node:stream";
import type { Dispatcher } from "undici";
import type { Logger } from "../log.js";
import { closeAfterResponse, isHttp2, sendText, type Exchange, type Handler, type UpgradeHandler } from "../server/exchange.js";
import { RepeatLimitedLog, clientText } from "../repeat-limited-log.js";
import { endToEndHeaders, upstreamRequestHeaders } from "./forwarding.js";
import { UpstreamGroup, type Upstream } from "./upstream-pool.js";
import { proxyUpgrade } from "./websocket.js";

export interface ProxyOptions {
  upstreams: string[];
  /** Send the client's Host upstream (true) or the upstream's own host (false). */
  preserveHost: boolean;
  /** Longest wait for the upstream's response headers, and between body chunks. */
  timeoutMs: number;
  /** Largest request body accepted, in bytes. */
  maxBody?: number;
  log: Logger;
}

export interface Proxy {
  handle: Handler;
  upgrade: UpgradeHandler;
  close(): Promise<void>;
}

const CONNECT_FAILURES = new Set(["ECONNREFUSED", "EHOSTUNREACH", "ENETUNREACH", "ENOTFOUND", "EAI_AGAIN", "UND_ERR_CONNECT_TIMEOUT"]);
const TIMEOUTS = new Set(["UND_ERR_HEADERS_TIMEOUT", "UND_ERR_BODY_TIMEOUT", "UND_ERR_CONNECT_TIMEOUT"]);

/** Request bodies up to this size are received whole before the upstream is contacted. */
const PREBUFFER_BYTES = 64 * 1024;

/** Reads a request body until it ends or `limit` bytes arrived, then pauses it. */
function readBodyStart(req: Readable, limit: number): Promise<{ head: Buffer[]; size: number; ended: boolean }> {
  return new Promise((resolve, reject) => {
    const head: Buffer[] = [];
    let size = 0;
    const finish = (ended: boolean) => {
      req.off("data", onData).off("end", onEnd).off("error", onGone).off("close", onGone);
      resolve({ head, size, ended });
    };
    const onData = (chunk: Buffer) => {
      head.push(chunk);
      size += chunk.length;
      if (size >= limit) {
        req.pause();
        finish(false);
      }
    };
    const onEnd = () => finish(true);
    const onGone = () => {
      req.off("data", onData).off("end", onEnd).off("error", onGone).off("close", onGone);
      reject(new Error("client closed the request"));
    };
    req.on("data", onData).once("end", onEnd).once("error", onGone).once("close", onGone);
  });
}

class BodyTooLarge extends Error {
  readonly code = "PADLOCK_BODY_TOO_LARGE";
}

/** Passes the request body through, failing once it grows past the limit. */
class BodyLimit extends Transform {
  private seen = 0;
  constructor(private readonly limit: number) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.seen += chunk.length;
    if (this.seen > this.limit) done(new BodyTooLarge(`request body larger than ${this.limit} bytes`));
    else done(null, chunk);
  }
}

export function createProxy(options: ProxyOptions): Proxy {
  const group = new UpstreamGroup(options.upstreams, { connectTimeoutMs: Math.min(options.timeoutMs, 10_000) });
  const { log } = options;
  // A client can make these happen at will (an upstream that is down, a body over the limit).
  const clientLog = new RepeatLimitedLog(log);

  const handle: Handler = (ex) => {
    const { req, res } = ex;
    const declared = Number(req.headers["content-length"] ?? 0);
    if (options.maxBody !== undefined && declared > options.maxBody) return refuseTooLarge(ex, options.maxBody);

    const hasBody = isHttp2(req) ? !req.stream.endAfterHeaders : req.headers["content-length"] !== undefined ? declared > 0 : req.headers["transfer-encoding"] !== undefined;
    const headers = upstreamRequestHeaders(req.headers, ex.client);

    let body: BodyLimit | Buffer | null = null;

    /** `tried` holds the upstreams already tried, once there was a retry. */
    const attempt = (upstream: Upstream, tried?: Set<Upstream>) => {
      if (options.preserveHost && ex.authority) headers.host = ex.authority;
      else headers.host = upstream.host;
      const dispatchOptions: Dispatcher.DispatchOptions = {
        path: upstream.basePath + ex.path + ex.search,
        method: req.method ?? "GET",
        headers: headers as Record<string, string | string[]>,
        body,
        headersTimeout: options.timeoutMs,
        bodyTimeout: options.timeoutMs,
      };
      upstream.pool.dispatch(dispatchOptions, new ResponseRelay(ex, (err) => {
        const code = (err as NodeJS.ErrnoException).code ?? "";
        if (CONNECT_FAILURES.has(code) || TIMEOUTS.has(code)) group.markFailed(upstream);
        // A body already sent cannot be sent again; one held whole in memory can.
        const retriable = !(body instanceof BodyLimit) && CONNECT_FAILURES.has(code) && !res.headersSent;
        const next = retriable ? group.pick(upstream) : undefined;
        if (next && !tried?.has(next) && next.downUntil <= Date.now()) {
          tried = tried ?? new Set([upstream]);
          tried.add(next);
          clientLog.warn(`retry ${upstream.label} ${code}`, { upstream: upstream.label, err: code }, `upstream ${upstream.label} failed (${code}); retrying on ${next.label}`);
          return attempt(next, tried);
        }
        failed(ex, upstream, err);
      }));
    };
    const start = () => attempt(group.pick()!);
    if (!hasBody) return start();
    // The upstream is contacted only once the body has ended or PREBUFFER_BYTES of it arrived:
    // a slow client (or a slow-body attack) holds a padlock connection, not an upstream one.
    readBodyStart(req, PREBUFFER_BYTES).then(
      ({ head, size, ended }) => {
        if (options.maxBody !== undefined && size > options.maxBody) return refuseTooLarge(ex, options.maxBody);
        if (ended) {
          body = size > 0 ? Buffer.concat(head, size) : null;
        } else {
          // A separate stream between the client and undici: when the upstream fails mid-upload,
          // undici destroys its body stream, which must not take the client's connection with it.
          const limited = new BodyLimit(options.maxBody ?? Infinity);
          for (const chunk of head) limited.write(chunk);
          req.pipe(limited);
          body = limited;
        }
        start();
      },
      () => {}, // The client went away mid-body: nothing to send, no one to answer.
    );
  };

  function failed(ex: Exchange, upstream: Upstream, err: Error): void {
    const code = (err as NodeJS.ErrnoException).code ?? err.name;
    const where = { host: ex.host, path: clientText(ex.path), upstream: upstream.label, err: code };
    if (err instanceof BodyTooLarge) {
      clientLog.warn("body too large", where, `request body over the limit of ${options.maxBody} bytes: 413`);
      return refuseTooLarge(ex, options.maxBody!);
    }
    if (ex.res.destroyed || ex.req.destroyed) return; // The client went away; nothing to tell.
    if (ex.res.headersSent) {
      clientLog.warn(`mid-response ${upstream.label} ${code}`, where, `upstream ${upstream.label} failed mid-response (${code}); closing the client's stream`);
      ex.res.destroy();
      return;
    }
    if (TIMEOUTS.has(code)) {
      clientLog.warn(`timeout ${upstream.label} ${code}`, where, `upstream ${upstream.label} did not answer in time (${code}): 504`);
      sendText(ex.res, 504, "Gateway timeout: the application behind this site did not answer in time.");
    } else {
      clientLog.warn(`failed ${upstream.label} ${code}`, where, `upstream ${upstream.label} failed (${code}: ${err.message}): 502`);
      sendText(ex.res, 502, "Bad gateway: the application behind this site is not reachable.");
    }
  }

  function refuseTooLarge(ex: Exchange, limit: number): void {
    if (ex.res.headersSent) return void ex.res.destroy();
    closeAfterResponse(ex.req, ex.res);
    sendText(ex.res, 413, `Request body too large: this path accepts at most ${limit} bytes.`);
  }

  return {
    handle,
    upgrade: (ex) => proxyUpgrade(ex, group, options, clientLog),
    close: () => group.close(),
  };
}

/** Relays one upstream response to the client, pausing the upstream while the client is slow. */
class ResponseRelay implements Dispatcher.DispatchHandler {
  private controller?: Dispatcher.DispatchController;
  private bytes = 0;

  constructor(
    private readonly ex: Exchange,
    private readonly onFailure: (err: Error) => void,
  ) {}

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    // The client leaving (closed tab, reset stream) cancels the upstream request. (on/off rather
    // than once: once wraps the listener in a new closure for every request.)
    this.ex.res.on("close", this.onClientClose);
  }

  private readonly onClientClose = () => {
    if (!this.ex.res.writableFinished) this.controller?.abort(new Error("client closed the connection"));
  };

  onResponseStart(_controller: Dispatcher.DispatchController, statusCode: number, headers: Record<string, string | string[] | undefined>): void {
    if (statusCode < 200) return; // 1xx: Node answers 100-continue itself; others are not relayed.
    this.ex.res.writeHead(statusCode, endToEndHeaders(headers, false, this.notRelayed) as Record<string, string | string[]>);
  }

  /**
   * Response fields not relayed (besides hop-by-hop ones): Server would advertise the upstream's
   * software and version; fields already set on the response win over the application's. (The
   * headers the site config sets, and HSTS, replace the application's as the head is written:
   * site-headers.ts.)
   */
  private readonly notRelayed = (name: string) => name === "server" || this.ex.res.hasHeader(name);

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.bytes += chunk.length;
    if (!this.ex.res.write(chunk)) {
      controller.pause();
      this.ex.res.once("drain", () => controller.resume());
    }
  }

  onResponseEnd(): void {
    this.ex.bytesSent = this.bytes;
    this.ex.res.off("close", this.onClientClose);
    this.ex.res.end();
  }

  onResponseError(_controller: Dispatcher.DispatchController, err: Error): void {
    this.ex.bytesSent = this.bytes;
    this.ex.res.off("close", this.onClientClose);
    this.onFailure(err);
  }
}
