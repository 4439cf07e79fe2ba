// The listeners: plain HTTP (ACME challenges, then redirect to HTTPS or serve) and HTTPS
// (HTTP/2 and HTTP/1.1 on one port, certificate per SNI). Both hand requests to the site that
// owns the host; neither knows what a site does. Around the site's handler the edge applies
// what every response shares: canonical host, HTTPS redirect, HSTS, the site's headers, the
// access log, limits, and a graceful drain on shutdown.
import http from "node:http";
import http2 from "node:http2";
import { EventEmitter, once } from "node:events";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import type { TLSSocket } from "node:tls";
import type { Logger } from "../log.js";
import { ACME_CHALLENGE_PREFIX, type Http01Challenges } from "../acme/http01-challenges.js";
import type { TlsAlpn01Challenges } from "../acme/tls-alpn01-challenges.js";
import type { CertificateCache } from "../tls/certificate-cache.js";
import { resolveClient, TrustedProxies } from "../proxy/forwarding.js";
import { rawResponse } from "../proxy/websocket.js";
import { AccessLog, tlsVersion } from "./access-log.js";
import { asResponse, closeAfterResponse, isHttp2, redirect, sendText, type Exchange, type Request, type Response, type UpgradeExchange } from "./exchange.js";
import { formatHostPort, hostOf } from "./host.js";
import { definedOnly } from "../config/defined-only.js";
import type { SiteTable } from "./site-table.js";
import { sitePolicy, type SitePolicy } from "./site-policy.js";
import type { SiteRuntime } from "../sites/site-runtime.js";
import { MIN_TLS_VERSION, TLS12_CIPHERS } from "./tls-settings.js";
import { answerTlsAlpnChallenges } from "./tls-alpn-challenge-listener.js";

/** What the edge keeps per site while it serves it. */
interface SiteState {
  runtime: SiteRuntime;
  policy: SitePolicy;
  /** Requests running: a reload closes the sites it replaced once this is 0. */
  inflight: number;
}

/** Per-request behaviour that a config reload may change. */
export interface EdgePolicy {
  unknownHostStatus?: 404 | 421;
  redirectStatus?: 301 | 308;
  trustedProxies?: TrustedProxies;
  accessLog?: AccessLog;
}

/** Listener settings: fixed while the listeners run (a reload cannot change them). */
export interface EdgeLimits {
  /** Largest request head in bytes (default 16 KiB). */
  headerSize?: number;
  /** Most request header fields (default 100). */
  headerCount?: number;
  /** Time to receive a complete request head, ms (default 30 s). */
  headersTimeoutMs?: number;
  /** Time to receive a complete request including its body, ms (default 300 s; 0 = none). */
  requestTimeoutMs?: number;
  /** Idle keep-alive connections and HTTP/2 sessions are closed after this long, ms (default 60 s). */
  idleTimeoutMs?: number;
  /** Concurrent streams per HTTP/2 connection (default 128). */
  h2MaxStreams?: number;
}

export interface EdgeOptions extends EdgePolicy {
  listen?: string;
  httpPort: number;
  /** No HTTPS listener when undefined. */
  httpsPort?: number;
  sites: SiteTable<SiteRuntime>;
  challenges: Http01Challenges;
  /** TLS-ALPN-01 challenges answered on the HTTPS listener. */
  tlsAlpnChallenges?: TlsAlpn01Challenges;
  certificates: CertificateCache;
  limits?: EdgeLimits;
  log: Logger;
  /** Counts each site's requests (metrics); absent when metrics are off. */
  httpMetrics?: { recordHttp(site: string, status: number, seconds: number): void };
}

const DEFAULT_LIMITS: Required<EdgeLimits> = {
  headerSize: 16 * 1024,
  headerCount: 100,
  headersTimeoutMs: 30_000,
  requestTimeoutMs: 300_000,
  idleTimeoutMs: 60_000,
  h2MaxStreams: 128,
};

// How often Node checks connections against headers_timeout and request_timeout (its default,
// 30 s, would let a slow client hold a connection that much longer than configured).
const CONNECTIONS_CHECK_MS = 1000;

export class Edge {
  private sites: SiteTable<SiteRuntime>;
  private policy: Required<Omit<EdgePolicy, "accessLog">> & { accessLog?: AccessLog };
  private readonly limits: Required<EdgeLimits>;
  private httpServer?: http.Server;
  private httpsServer?: http2.Http2SecureServer;
  /** Per site: its header policy, and its requests running (a reload closes old sites once idle). Weak: replaced sites go. */
  private readonly siteStates = new WeakMap<SiteRuntime, SiteState>();
  private readonly requestDone = new EventEmitter();
  /**
   * HTTP/1.x connections on both listeners (HTTP/2 sessions aside), each with its newest
   * response not finished yet (undefined when idle): a drain closes idle connections at once
   * and tells that response to close its connection. A value per connection, not a set of
   * responses: adding and removing a set member for every request showed in profiles.
   */
  private readonly http1Sockets = new Map<Duplex, Response | undefined>();
  private readonly h2Sessions = new Set<http2.ServerHttp2Session>();
  /** Upgraded (WebSocket) connections: cut at the shutdown deadline, they have no request to finish. */
  private readonly upgraded = new Set<Duplex>();
  private draining = false;

  /** The options without the first site table and policy: kept, they would hold sites a reload replaced. */
  private readonly options: Omit<EdgeOptions, "sites" | keyof EdgePolicy>;

  constructor({ sites, unknownHostStatus, redirectStatus, trustedProxies, accessLog, ...options }: EdgeOptions) {
    this.options = options;
    this.sites = sites;
    this.policy = policyOf({ unknownHostStatus, redirectStatus, trustedProxies, accessLog });
    this.limits = { ...DEFAULT_LIMITS, ...definedOnly(options.limits ?? {}) };
    this.requestDone.setMaxListeners(0);
  }

  /** Swap the site table (and per-request policy); requests already running finish on the old sites. */
  replaceSites(sites: SiteTable<SiteRuntime>, policy?: EdgePolicy): void {
    this.sites = sites;
    if (policy) this.policy = policyOf(policy);
  }

  /** Resolves once none of these sites has a request running (or at the deadline). */
  async idle(sites: SiteRuntime[], deadlineMs: number): Promise<void> {
    const deadline = Date.now() + deadlineMs;
    while (sites.some((s) => (this.siteStates.get(s)?.inflight ?? 0) > 0) && Date.now() < deadline) {
      await Promise.race([once(this.requestDone, "done"), delay(Math.max(0, deadline - Date.now()))]);
    }
  }

  get httpPort(): number | undefined {
    return (this.httpServer?.address() as AddressInfo | null)?.port;
  }

  get httpsPort(): number | undefined {
    return (this.httpsServer?.address() as AddressInfo | null)?.port;
  }

  async start(): Promise<void> {
    const { listen, httpPort, httpsPort, certificates } = this.options;
    const limits = this.limits;
    this.httpServer = http.createServer(
      {
        maxHeaderSize: limits.headerSize,
        headersTimeout: limits.headersTimeoutMs,
        requestTimeout: limits.requestTimeoutMs,
        keepAliveTimeout: limits.idleTimeoutMs,
        connectionsCheckingInterval: CONNECTIONS_CHECK_MS,
      },
      (req, res) => this.onRequest(req, res, false),
    );
    this.httpServer.maxHeadersCount = limits.headerCount + 1;
    this.httpServer.on("connection", (socket: Duplex) => this.trackHttp1Socket(socket));
    this.httpServer.on("upgrade", (req: http.IncomingMessage, socket: Duplex, head: Buffer) => this.onUpgrade(req, socket, head, false));
    await listenOn(this.httpServer, httpPort, listen);
    if (httpsPort !== undefined) {
      const server = http2.createSecureServer(
        {
          allowHTTP1: true,
          noDelay: true,
          minVersion: MIN_TLS_VERSION,
          ciphers: TLS12_CIPHERS,
          honorCipherOrder: true,
          maxHeaderListPairs: limits.headerCount + 5, // + the four pseudo-headers
          settings: { maxConcurrentStreams: limits.h2MaxStreams, maxHeaderListSize: limits.headerSize },
          SNICallback: (servername, cb) => {
            const installed = certificates.lookup(servername);
            if (installed) cb(null, installed.context);
            else {
              this.warnNoCertificate(servername);
              cb(new Error(`no certificate for ${servername}`));
            }
          },
        },
        (req, res) => this.onRequest(req, asResponse(res), true),
      );
      applyHttp1Limits(server, limits);
      if (this.options.tlsAlpnChallenges) answerTlsAlpnChallenges(server, this.options.tlsAlpnChallenges);
      server.on("upgrade", (req: http.IncomingMessage, socket: Duplex, head: Buffer) => this.onUpgrade(req, socket, head, true));
      server.on("session", (session: http2.ServerHttp2Session) => {
        // An idle session gets GOAWAY; streams still open (a slow upstream, a long poll) finish.
        session.setTimeout(limits.idleTimeoutMs, () => session.close());
        this.h2Sessions.add(session);
        session.once("close", () => this.h2Sessions.delete(session));
        if (this.draining) session.close();
      });
      server.on("secureConnection", (socket: TLSSocket) => {
        if (socket.alpnProtocol !== "h2") this.trackHttp1Socket(socket);
      });
      this.httpsServer = server;
      certificates.onInstall((c) => {
        const fallback = this.sites.defaultSite;
        if (!fallback || fallback.hosts.some((h) => c.names.includes(h))) this.httpsServer?.setSecureContext({ key: c.key, cert: c.cert });
      });
      await listenOn(server, httpsPort, listen);
    }
  }

  /**
   * Stops accepting connections and lets requests in flight finish: HTTP/2 sessions get GOAWAY,
   * idle HTTP/1.1 connections are closed, busy ones close after their response. Whatever is
   * still open at the deadline is cut.
   */
  async close(deadlineMs = 10_000): Promise<void> {
    this.draining = true;
    const closed = Promise.all([closeServer(this.httpServer), closeServer(this.httpsServer)]);
    for (const session of this.h2Sessions) session.close();
    for (const [socket, res] of this.http1Sockets) {
      if (!res) socket.end();
      else if (!res.headersSent) res.setHeader("connection", "close");
    }
    const timer = setTimeout(() => {
      this.options.log.warn("shutdown deadline reached: closing connections still open");
      this.httpServer?.closeAllConnections();
      for (const session of this.h2Sessions) session.destroy();
      for (const socket of this.http1Sockets.keys()) socket.destroy();
      for (const socket of this.upgraded) socket.destroy();
    }, deadlineMs);
    await closed;
    clearTimeout(timer);
  }

  private onRequest(req: Request, res: Response, secure: boolean): void {
    const ex = this.exchangeOf(req, res, secure);
    if (!ex) {
      closeAfterResponse(req, res);
      sendText(res, 400, "Bad request: the request target must be an absolute path.");
      return;
    }
    const http1Socket = isHttp2(req) ? undefined : req.socket;
    const http1Tracked = http1Socket !== undefined && this.http1RequestStarted(http1Socket, res);
    if (this.draining && http1Socket) closeAfterResponse(req, res);
    const accessLog = this.policy.accessLog?.enabled ? this.policy.accessLog : undefined;
    const tls = accessLog && secure ? tlsVersion(ex) : null;
    let state: SiteState | undefined;
    // One listener does all the accounting: a listener (and closure) each for the access log,
    // the drain, the reload and the metrics cost a measurable part of answering a cached page.
    // "close" comes once per response, so `on` spares the wrapper closure `once` makes.
    res.on("close", () => {
      accessLog?.logExchange(ex, tls);
      if (http1Tracked) this.http1RequestDone(http1Socket!, res);
      if (state) this.siteRequestDone(state, ex);
    });

    if (headerCount(req) > this.limits.headerCount) {
      closeAfterResponse(req, res);
      sendText(res, 431, `Too many request header fields (at most ${this.limits.headerCount}).`);
      return;
    }
    if (!secure && ex.path.startsWith(ACME_CHALLENGE_PREFIX)) return this.answerChallenge(ex);

    const site = this.sites.match(ex.host);
    if (!site) {
      const status = this.policy.unknownHostStatus;
      sendText(res, status, status === 421 ? `This server does not serve "${ex.host}".` : "Not found.");
      return;
    }
    state = this.stateOf(site);
    state.inflight++;
    const policy = state.policy;
    for (const [name, value] of policy.headers) res.setHeader(name, value);
    if (secure && policy.hsts) res.setHeader("strict-transport-security", policy.hsts);

    const location = this.redirectFor(ex, site, policy);
    if (location) return redirect(ex, location, this.policy.redirectStatus);

    try {
      site.handle(ex)?.catch((err: unknown) => this.handlerFailed(ex, err));
    } catch (err) {
      this.handlerFailed(ex, err);
    }
  }

  /** A site's response is done: the reload's in-flight count and the metrics. */
  private siteRequestDone(state: SiteState, ex: Exchange): void {
    state.inflight--;
    if (this.requestDone.listenerCount("done") > 0) this.requestDone.emit("done");
    this.options.httpMetrics?.recordHttp(state.runtime.hosts[0]!, ex.res.statusCode, (performance.now() - ex.startedAt) / 1000);
  }

  private handlerFailed(ex: Exchange, err: unknown): void {
    this.options.log.error({ err, host: ex.host, path: ex.path }, "request handler failed");
    if (!ex.res.headersSent) sendText(ex.res, 500, "Internal server error.");
    else ex.res.destroy();
  }

  private readonly lastNoCertificateWarning = new Map<string, number>();

  /** Once per name every 10 s: a client retrying in a loop must not flood the log. */
  private warnNoCertificate(servername: string): void {
    const now = Date.now();
    if (now - (this.lastNoCertificateWarning.get(servername) ?? 0) < 10_000) return;
    if (this.lastNoCertificateWarning.size > 1000) this.lastNoCertificateWarning.clear();
    this.lastNoCertificateWarning.set(servername, now);
    this.options.log.warn({ servername }, `TLS handshake for ${servername} refused: no certificate yet (issuance may be in progress)`);
  }

  /** Where a request must go instead: the canonical host, or HTTPS for plain HTTP. */
  private redirectFor(ex: Exchange, site: SiteRuntime, policy: SitePolicy): string | undefined {
    const canonical = policy.canonicalHost(ex.host);
    // The settings first: looking up the host's certificate is the dearest test.
    const toHttps = !ex.secure && site.config.http !== "serve" && ex.client.proto !== "https" && this.httpsOn(site, ex.host);
    if (!canonical && !toHttps) return undefined;
    // Behind a trusted proxy that terminated TLS, the visitor's URL is https on the default port.
    const viaTlsProxy = !ex.secure && ex.client.proto === "https";
    const secure = ex.secure || toHttps || viaTlsProxy;
    const port = viaTlsProxy ? 443 : secure ? (this.httpsPort ?? 443) : (this.httpPort ?? 80);
    return `${secure ? "https" : "http"}://${formatHostPort(canonical ?? ex.host, port, secure ? 443 : 80)}${ex.path}${ex.search}`;
  }

  private onUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer, secure: boolean): void {
    socket.on("error", () => socket.destroy());
    this.upgraded.add(socket);
    socket.once("close", () => this.upgraded.delete(socket));
    const base = this.exchangeOf(req, undefined as unknown as Response, secure);
    if (!base) return void socket.end(rawResponse(400, "Bad request."));
    const ex: UpgradeExchange = { ...base, req, socket, head };
    this.policy.accessLog?.trackUpgrade(ex);
    const refuse = (code: number, text: string, extra?: Record<string, string>) => {
      ex.status = code;
      socket.end(rawResponse(code, text, extra));
    };
    if (this.draining) return refuse(503, "Shutting down.");
    const site = this.sites.match(ex.host);
    if (!site) return refuse(this.policy.unknownHostStatus, "Unknown host.");
    const location = this.redirectFor(base, site, this.stateOf(site).policy);
    if (location) return refuse(this.policy.redirectStatus, `Redirecting to ${location}`, { location });
    if (!site.upgrade) return refuse(404, "No WebSocket endpoint here.");
    site.upgrade(ex);
  }

  private stateOf(site: SiteRuntime): SiteState {
    let state = this.siteStates.get(site);
    if (!state) this.siteStates.set(site, (state = { runtime: site, policy: sitePolicy(site.config), inflight: 0 }));
    return state;
  }

  private trackHttp1Socket(socket: Duplex): void {
    this.http1Sockets.set(socket, undefined);
    socket.once("close", () => this.http1Sockets.delete(socket));
  }

  /** Notes the request's response on its connection, so a drain can close the connection once it is idle. */
  private http1RequestStarted(socket: Duplex, res: Response): boolean {
    if (!this.http1Sockets.has(socket)) return false;
    this.http1Sockets.set(socket, res);
    return true;
  }

  private http1RequestDone(socket: Duplex, res: Response): void {
    // With pipelining an older response can finish after a newer one started: the newer one stays.
    if (this.http1Sockets.get(socket) !== res) return;
    this.http1Sockets.set(socket, undefined);
    if (this.draining) socket.end();
  }

  private httpsOn(site: SiteRuntime, host: string): boolean {
    return this.httpsServer !== undefined && site.config.tls?.enabled !== false && this.options.certificates.has(host);
  }

  private answerChallenge(ex: Exchange): void {
    const token = ex.path.slice(ACME_CHALLENGE_PREFIX.length);
    const known = this.options.challenges.lookup(token);
    if (known !== undefined) return this.sendKeyAuthorization(ex, token, known);
    this.options.challenges.resolve(token).then((shared) => this.sendKeyAuthorization(ex, token, shared));
  }

  private sendKeyAuthorization(ex: Exchange, token: string, keyAuthorization: string | undefined): void {
    if (keyAuthorization === undefined) {
      this.options.log.warn({ host: ex.host, token }, `ACME challenge requested for unknown token ${token} (host ${ex.host})`);
      sendText(ex.res, 404, "No such ACME challenge token.");
      return;
    }
    ex.bytesSent = Buffer.byteLength(keyAuthorization);
    ex.res.writeHead(200, { "content-type": "text/plain", "content-length": ex.bytesSent });
    ex.res.end(keyAuthorization);
  }

  private exchangeOf(req: Request, res: Response, secure: boolean): Exchange | undefined {
    const target = req.url ?? "";
    if (!target.startsWith("/")) return undefined;
    const q = target.indexOf("?");
    const authority = isHttp2(req) && req.authority ? req.authority : req.headers.host;
    const host = hostOf(authority);
    return {
      req,
      res,
      secure,
      host,
      path: q < 0 ? target : target.slice(0, q),
      search: q < 0 ? "" : target.slice(q),
      client: resolveClient(req.headers, req.socket?.remoteAddress, secure, authority ?? host, this.policy.trustedProxies),
      startedAt: performance.now(),
      bytesSent: undefined, // set by handlers: part of the object's shape from the start
    };
  }
}

function policyOf(p: EdgePolicy): Edge["policy"] {
  return {
    unknownHostStatus: p.unknownHostStatus ?? 421,
    redirectStatus: p.redirectStatus ?? 308,
    trustedProxies: p.trustedProxies ?? new TrustedProxies(),
    accessLog: p.accessLog,
  };
}

/** Header fields the client sent, without HTTP/2 pseudo-headers. */
function headerCount(req: Request): number {
  let count = 0;
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) if (raw[i]!.charCodeAt(0) !== 58) count++;
  return count;
}

/**
 * HTTP/1.1 connections on the HTTPS listener are parsed by Node's http module, which reads its
 * limits from the server object; http2.createSecureServer does not take them as options.
 */
function applyHttp1Limits(server: http2.Http2SecureServer, limits: Required<EdgeLimits>): void {
  Object.assign(server, {
    maxHeaderSize: limits.headerSize,
    maxHeadersCount: limits.headerCount + 1,
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.idleTimeoutMs,
    connectionsCheckingInterval: CONNECTIONS_CHECK_MS,
  });
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

function listenOn(server: http.Server | http2.Http2SecureServer, port: number, host?: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen({ port, host }, () => {
      server.off("error", reject);
      resolve();
    });
  });
}

function closeServer(server: http.Server | http2.Http2SecureServer | undefined): Promise<void> {
  if (!server?.listening) return Promise.resolve();
  return new Promise((resolve) => server.close(() => resolve()));
}
