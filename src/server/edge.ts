// The listeners: plain HTTP (ACME challenges, then redirect to HTTPS or serve) and HTTPS
// (HTTP/2 and HTTP/1.1 on one port, certificate per SNI). Both hand requests to the site that
// owns the host; neither knows what a site does. Around the site's handler the edge applies
// what every response shares: canonical host, HTTPS redirect, HSTS, the site's headers, the
// access log, limits, and a graceful drain on shutdown.
import http from "node:http";
import http2 from "node:http2";
import { randomBytes } from "node:crypto";
import { EventEmitter, once } from "node:events";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import type { SecureContext, TLSSocket } from "node:tls";
import type { Logger } from "../log.js";
import type { CertificateCache, InstalledCertificate } from "../tls/certificate-cache.js";
import { secureContextOptions } from "../tls/tls-policy.js";
import { SessionTicketKeys } from "../tls/session-ticket-keys.js";
import { renewTicketsOnResumption } from "../tls/renewed-tickets.js";
import { setSniCallback } from "../tls/sni-callback.js";
import { resolveClient, TrustedProxies } from "./client-address.js";
import { AccessLog, tlsVersion } from "./access-log.js";
import { afterLastResponse, asResponse, closeAfterResponse, connectionClosing, isHttp2, markLastResponse, rawResponse, redirect, sendText, type Exchange, type Request, type Response, type UpgradeExchange } from "./exchange.js";
import { formatHostPort, hostOf } from "./host.js";
import { isRefused, parseTarget, type RequestTarget } from "./request-target.js";
import { requestProblem } from "./request-checks.js";
import { RepeatLimitedLog, clientText } from "../repeat-limited-log.js";
import { definedOnly } from "../config/defined-only.js";
import { tlsEnabled } from "../config/certificate-source.js";
import type { SiteTable } from "./site-table.js";
import { sitePolicy, type SitePolicy } from "./site-policy.js";
import { addSiteHeaders, SiteHeadersHttp2Response, SiteHeadersResponse } from "./site-headers.js";
import type { SiteRuntime } from "./site-runtime.js";
import { ACME_CHALLENGE_PREFIX, sendKeyAuthorization, type Http01Challenges } from "./http01-answer.js";
import { answerTlsAlpnChallenges, type TlsAlpn01Challenges } from "./tls-alpn-challenge-listener.js";
import { Connections } from "./connections.js";

/** What the edge keeps per site while it serves it. */
interface SiteState {
  runtime: SiteRuntime;
  policy: SitePolicy;
  /** Requests running: a reload closes the sites it replaced once this is 0. */
  inflight: number;
}

/** Per-request behaviour that a config reload may change. */
export interface EdgePolicy {
  /** Status for hosts no site serves (default: 421 over HTTPS, 404 over HTTP). */
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
  /** Why a name a site serves has no certificate yet, for the log ("issuance is in progress", "the last attempt failed…"). */
  whyNoCertificate?: (name: string, site: SiteRuntime) => string | undefined;
  /** Encrypts TLS session tickets (default: keys of this process's own, changing daily). */
  ticketKeys?: SessionTicketKeys;
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

/** Tells apart the request ids of one process from another's in a shared log. */
const PROCESS_TAG = randomBytes(3).toString("hex");
let failedRequests = 0;

export class Edge {
  private sites: SiteTable<SiteRuntime>;
  private policy: Required<Omit<EdgePolicy, "accessLog" | "unknownHostStatus">> & Pick<EdgePolicy, "accessLog" | "unknownHostStatus">;
  private readonly limits: Required<EdgeLimits>;
  private httpServer?: http.Server;
  private httpsServer?: http2.Http2SecureServer;
  /** Per site: its header policy, and its requests running (a reload closes old sites once idle). Weak: replaced sites go. */
  private readonly siteStates = new WeakMap<SiteRuntime, SiteState>();
  private readonly requestDone = new EventEmitter();
  private readonly connections = new Connections();
  private readonly ticketKeys: SessionTicketKeys;
  /** The certificate of the listener's own context: for handshakes without SNI or with a name no certificate has. */
  private defaultCertificate: InstalledCertificate | undefined;
  private readonly clientLog: RepeatLimitedLog;

  /** The options without the first site table and policy: kept, they would hold sites a reload replaced. */
  private readonly options: Omit<EdgeOptions, "sites" | keyof EdgePolicy>;

  constructor({ sites, unknownHostStatus, redirectStatus, trustedProxies, accessLog, ...options }: EdgeOptions) {
    this.options = options;
    this.sites = sites;
    this.policy = policyOf({ unknownHostStatus, redirectStatus, trustedProxies, accessLog });
    this.limits = { ...DEFAULT_LIMITS, ...definedOnly(options.limits ?? {}) };
    this.ticketKeys = options.ticketKeys ?? new SessionTicketKeys();
    this.clientLog = new RepeatLimitedLog(options.log);
    this.requestDone.setMaxListeners(0);
  }

  /** Swap the site table (and per-request policy); requests already running finish on the old sites. */
  replaceSites(sites: SiteTable<SiteRuntime>, policy?: EdgePolicy): void {
    this.sites = sites;
    if (policy) this.policy = policyOf(policy);
    this.useDefaultCertificate();
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
        ServerResponse: SiteHeadersResponse,
        maxHeaderSize: limits.headerSize,
        // Node's own 400 for a missing Host lets a request pipelined behind it through: refused in headProblem instead.
        requireHostHeader: false,
        headersTimeout: limits.headersTimeoutMs,
        requestTimeout: limits.requestTimeoutMs,
        keepAliveTimeout: limits.idleTimeoutMs,
        connectionsCheckingInterval: CONNECTIONS_CHECK_MS,
      },
      (req, res) => this.onRequest(req, res, false),
    );
    this.httpServer.maxHeadersCount = limits.headerCount + 1;
    this.httpServer.on("clientError", (err: NodeJS.ErrnoException, socket: Duplex) => this.onClientError(err, socket));
    this.httpServer.on("connect", (_req: http.IncomingMessage, socket: Duplex) => this.refuseConnect(socket));
    this.httpServer.on("connection", (socket: Duplex) => this.connections.trackHttp1(socket));
    this.httpServer.on("upgrade", (req: http.IncomingMessage, socket: Duplex, head: Buffer) => this.onUpgrade(req, socket, head, false));
    await listenOn(this.httpServer, httpPort, listen);
    if (httpsPort !== undefined) {
      const server = http2.createSecureServer(
        {
          // No certificate until one is installed: a handshake then ends with a TLS alert.
          ...secureContextOptions(undefined, this.ticketKeys.current()),
          allowHTTP1: true,
          Http1ServerResponse: SiteHeadersResponse,
          Http2ServerResponse: SiteHeadersHttp2Response,
          noDelay: true,
          maxHeaderListPairs: limits.headerCount + 5, // + the four pseudo-headers
          settings: { maxConcurrentStreams: limits.h2MaxStreams, maxHeaderListSize: limits.headerSize },
          SNICallback: this.sniCallback,
        },
        (req, res) => this.onRequest(req, asResponse(res), true),
      );
      this.ticketKeys.rotate((keys) => server.setTicketKeys(keys));
      renewTicketsOnResumption(server, () => this.ticketKeys.current());
      applyHttp1Limits(server, limits);
      server.on("clientError", (err: NodeJS.ErrnoException, socket: Duplex) => this.onClientError(err, socket));
      // CONNECT on an HTTP/1 connection hands over its socket; on HTTP/2 it is a stream, answered like any request (400).
      server.on("connect", (req: http.IncomingMessage | http2.Http2ServerRequest, socketOrResponse: Duplex | http2.Http2ServerResponse) => {
        if (isHttp2(req)) this.onRequest(req, asResponse(socketOrResponse as http2.Http2ServerResponse), true);
        else this.refuseConnect(socketOrResponse as Duplex);
      });
      if (this.options.tlsAlpnChallenges) answerTlsAlpnChallenges(server, this.options.tlsAlpnChallenges);
      server.on("upgrade", (req: http.IncomingMessage, socket: Duplex, head: Buffer) => this.onUpgrade(req, socket, head, true));
      server.on("session", (session: http2.ServerHttp2Session) => this.connections.trackSession(session, limits.idleTimeoutMs));
      server.on("secureConnection", (socket: TLSSocket) => {
        if (socket.alpnProtocol !== "h2") this.connections.trackHttp1(socket);
      });
      this.httpsServer = server;
      certificates.onInstall(() => this.useDefaultCertificate());
      this.useDefaultCertificate();
      await listenOn(server, httpsPort, listen);
    }
  }

  /**
   * Stops accepting connections and lets requests in flight finish: HTTP/2 sessions get GOAWAY,
   * idle HTTP/1.1 connections are closed, busy ones close after their response. Whatever is
   * still open at the deadline is cut.
   */
  async close(deadlineMs = 10_000): Promise<void> {
    this.ticketKeys.stop();
    await this.connections.drain([this.httpServer, this.httpsServer], deadlineMs, this.options.log);
  }

  /**
   * Every request passes here. Whatever one request throws ends that request (a 500, or a reset
   * once its answer began) and is logged; it never reaches the process.
   */
  private onRequest(req: Request, res: Response, secure: boolean): void {
    try {
      this.serve(req, res, secure);
    } catch (err) {
      this.requestFailed(req, res, err);
    }
  }

  private serve(req: Request, res: Response, secure: boolean): void {
    // Left unanswered: the connection closes once its last response is out (a destroy would cut that one).
    if (afterLastResponse(req, res)) return;
    const target = parseTarget(req.url ?? "");
    const refused = requestProblem(req, target, this.limits.headerCount);
    // A refused target is logged as the client wrote it.
    const ex = this.exchangeOf(req, res, secure, isRefused(target) ? { path: req.url ?? "", search: "" } : target);
    const http1Socket = isHttp2(req) ? undefined : req.socket;
    const http1Tracked = http1Socket !== undefined && this.connections.requestStarted(http1Socket, res);
    if (this.connections.draining && http1Socket) closeAfterResponse(req, res);
    const accessLog = this.policy.accessLog?.enabled ? this.policy.accessLog : undefined;
    const tls = accessLog && secure ? tlsVersion(ex) : null;
    let state: SiteState | undefined;
    // One listener does all the accounting: a listener (and closure) each for the access log,
    // the drain, the reload and the metrics cost a measurable part of answering a cached page.
    // "close" comes once per response, so `on` spares the wrapper closure `once` makes.
    res.on("close", () => {
      accessLog?.logExchange(ex, tls);
      if (http1Tracked) this.connections.requestDone(http1Socket!, res);
      if (state) this.siteRequestDone(state, ex);
    });

    if (refused) {
      closeAfterResponse(req, res);
      sendText(res, refused.status, refused.reason);
      return;
    }

    const site = this.sites.match(ex.host);
    if (!site) return this.unknownHost(ex);
    if (!secure && ex.path.startsWith(ACME_CHALLENGE_PREFIX)) return this.answerChallenge(ex);
    state = this.stateOf(site);
    state.inflight++;
    const policy = state.policy;
    addSiteHeaders(res, secure ? policy.httpsHeaders : policy.httpHeaders);

    const location = this.redirectFor(ex, site, policy);
    if (location) return redirect(ex, location, this.policy.redirectStatus);

    site.handle(ex)?.catch((err: unknown) => this.requestFailed(req, res, err));
  }

  /** No site serves this host (and none is the default): a short answer, nothing of any site's. */
  private unknownHost(ex: Exchange): void {
    const status = this.policy.unknownHostStatus ?? (ex.secure ? 421 : 404);
    sendText(ex.res, status, status === 421 ? `This server does not serve "${clientText(ex.host, 100)}".` : "Not found.");
  }

  /**
   * An HTTP/1 request Node's parser refused: 400 (431 for a head too large, 408 for a timeout,
   * 505 for a version other than HTTP/1.x, as from nginx), and the connection ends. Unlike Node's
   * own handler, a request still being answered on the connection (pipelining) gets its answer
   * first, and bytes after a request that said Connection: close are ignored, as by nginx.
   */
  private onClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
    if (err.code === "HPE_CLOSED_CONNECTION") return;
    if (!socket.writable || err.code === "ECONNRESET") return void socket.destroy();
    // Bad bytes behind a request still being answered: that answer is sent, then the connection ends.
    const pending = this.connections.busyWith(socket);
    if (pending && !pending.writableFinished) {
      markLastResponse(socket);
      pending.once("close", () => socket.end());
      return;
    }
    const [status, text] =
      err.code === "HPE_HEADER_OVERFLOW" ? [431, "Request header fields too large."]
      : err.code === "ERR_HTTP_REQUEST_TIMEOUT" ? [408, "Request timeout."]
      : err.code === "HPE_INVALID_VERSION" ? [505, "HTTP version not supported: this connection speaks HTTP/1.1."]
      : [400, "Bad request."];
    socket.end(rawResponse(status, text));
  }

  /** A site's response is done: the reload's in-flight count and the metrics. */
  private siteRequestDone(state: SiteState, ex: Exchange): void {
    state.inflight--;
    if (this.requestDone.listenerCount("done") > 0) this.requestDone.emit("done");
    this.options.httpMetrics?.recordHttp(state.runtime.hosts[0]!, ex.res.statusCode, (performance.now() - ex.startedAt) / 1000);
  }

  /**
   * One request failed with an exception: it gets a 500 naming a request id (or its stream or
   * connection is reset, when the answer had begun), and the log gets the id and the stack.
   */
  private requestFailed(req: Request, res: Response | undefined, err: unknown): void {
    const id = `${PROCESS_TAG}-${++failedRequests}`;
    // The message may hold client text: cut and escaped. The frames are padlock's own code.
    const name = err instanceof Error ? err.name : "Error";
    const message = clientText(err instanceof Error ? err.message : String(err));
    const frames = err instanceof Error ? (err.stack ?? "").split("\n").filter((l) => /^\s+at /.test(l)) : [];
    const where = { request_id: id, host: clientText(hostOf(req.headers.host)), path: clientText(req.url ?? ""), err: { type: name, message, stack: [`${name}: ${message}`, ...frames].join("\n") } };
    // The kind is where it was thrown: one line a minute per bug, however often a client triggers it.
    this.clientLog.error(`${name} ${frames[0]?.trim() ?? message}`, where, `request ${id} failed: ${name}: ${message}`);
    try {
      if (res && !res.headersSent) sendText(res, 500, `Internal server error (request ${id}).`);
      else if (res) res.destroy();
      else req.socket?.destroy();
    } catch {
      (isHttp2(req) ? req.stream : req.socket)?.destroy();
    }
  }

  /**
   * The certificate for a TLS handshake's SNI name. Undefined leaves the listener's own context:
   * the default certificate for names no certificate has, or, with none installed yet, a TLS
   * alert (handshake failure) the client can show.
   */
  private certificateFor(servername: string): SecureContext | undefined {
    const installed = this.options.certificates.lookup(servername);
    if (installed) return installed.context;
    const name = servername.toLowerCase();
    const site = this.sites.matchByName(name);
    if (site) {
      const why = this.options.whyNoCertificate?.(name, site) ?? "padlock does not obtain one for it (no ca: in the config, or tls: { enabled: false })";
      // One kind per site and state (not per name: under a wildcard, clients could invent names).
      this.clientLog.warn(`no certificate for ${site.hosts[0]}: ${why.split(" (")[0]}`, { servername: clientText(name, 100) }, `TLS handshake for ${clientText(name, 100)}: no certificate yet: ${why}`);
    }
    return undefined;
  }

  /**
   * Puts a certificate into the listener's own context, for handshakes without SNI or for a name
   * without a certificate: the default site's, else the first site's in config order, counting
   * only sites with TLS whose certificate is installed. It depends on the config and on which
   * certificates exist, never on which was installed last.
   *
   * Node adds the certificate SNI picks to the connection beside the listener's, one per key
   * type, and OpenSSL then picks by the client's preferences: with an ECDSA default and an RSA
   * certificate for another name, a client preferring ECDSA suites (most browsers) would get the
   * default certificate under the other name. So while certificates of several key types are
   * installed, the listener holds none (clients without SNI get a TLS alert), and the log says why.
   */
  private useDefaultCertificate(): void {
    const server = this.httpsServer;
    if (!server) return;
    const candidates = [this.sites.defaultSite, ...this.sites.all].filter((s) => s !== undefined && tlsEnabled(s.config));
    let installed: InstalledCertificate | undefined;
    for (const site of candidates) if ((installed = this.options.certificates.lookup(site!.hosts[0]!))) break;
    if (installed && this.options.certificates.keyTypes().size > 1) {
      if (this.defaultCertificate || !this.mixedKeyTypesSaid) {
        this.options.log.warn(`sites have certificates of different key types (${[...this.options.certificates.keyTypes()].sort().join(", ")}): handshakes without SNI get no certificate, since one would be shown to clients of other names too; give every site the same tls.key_type to serve them`);
        this.mixedKeyTypesSaid = true;
      }
      installed = undefined;
    }
    if (installed !== this.defaultCertificate) {
      this.defaultCertificate = installed;
      server.setSecureContext(secureContextOptions(installed, this.ticketKeys.current()));
      renewTicketsOnResumption(server, () => this.ticketKeys.current());
    }
    setSniCallback(server, this.sniChooses() ? this.sniCallback : undefined);
  }

  private readonly sniCallback = (servername: string, cb: (err: Error | null, context?: SecureContext) => void) => cb(null, this.certificateFor(servername));

  /**
   * Whether a handshake's SNI name can matter: some name would get another certificate than the
   * listener's own, or a warning that its site has none. Not when one certificate is installed,
   * it is the listener's own, and it covers every name of every site.
   */
  private sniChooses(): boolean {
    const certificates = this.options.certificates;
    const only = certificates.only();
    if (!only || only !== this.defaultCertificate) return true;
    return !this.sites.all.every((site) => site.hosts.every((host) => certificates.lookup(host) === only));
  }

  private mixedKeyTypesSaid = false;

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
    this.connections.trackUpgraded(socket);
    // Pipelined behind a request whose response is the connection's last: not served (see afterLastResponse).
    if (connectionClosing(socket)) return;
    // Behind a request still being answered: taken up once that answer is out, never in its middle.
    const pending = this.connections.busyWith(socket);
    if (pending && !pending.writableFinished) return void pending.once("close", () => this.takeUpgrade(req, socket, head, secure));
    this.takeUpgrade(req, socket, head, secure);
  }

  /**
   * padlock is no forward proxy: CONNECT gets 400 (as from nginx) instead of a silent close; in
   * the order of the connection's requests, like an upgrade: after the answers still being sent,
   * and not at all behind a request whose response was the connection's last.
   */
  private refuseConnect(socket: Duplex): void {
    socket.on("error", () => socket.destroy());
    if (connectionClosing(socket)) return;
    const refuse = () => void (socket.destroyed || socket.end(rawResponse(400, "Bad request: CONNECT is not served here.")));
    const pending = this.connections.busyWith(socket);
    if (pending && !pending.writableFinished) return void pending.once("close", refuse);
    refuse();
  }

  private takeUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer, secure: boolean): void {
    if (socket.destroyed) return;
    try {
      if (isWebSocket(req)) this.upgrade(req, socket, head, secure);
      else this.serveWithoutUpgrade(req, socket, secure);
    } catch (err) {
      this.requestFailed(req, undefined, err);
    }
  }

  /**
   * An Upgrade to anything but WebSocket (h2c, TLS/1.0…) is answered as if the client had not
   * asked, as nginx does; nothing upstream ever sees it. Node handed over the connection, so the
   * response is written on it directly and the connection closes after it.
   */
  private serveWithoutUpgrade(req: http.IncomingMessage, socket: Duplex, secure: boolean): void {
    // The body, if any, was not read for us: such a request cannot be served.
    if (req.headers["content-length"] !== undefined && req.headers["content-length"] !== "0") return void socket.end(rawResponse(400, "Bad request: Upgrade with a body is only accepted for WebSocket."));
    if (req.headers["transfer-encoding"] !== undefined) return void socket.end(rawResponse(400, "Bad request: Upgrade with a body is only accepted for WebSocket."));
    const res = new SiteHeadersResponse(req);
    res.assignSocket(socket as import("node:net").Socket);
    res.shouldKeepAlive = false;
    res.once("finish", () => socket.end());
    this.onRequest(req, res, secure);
  }

  private upgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer, secure: boolean): void {
    const target = parseTarget(req.url ?? "");
    const refused = requestProblem(req, target, this.limits.headerCount);
    if (refused || isRefused(target)) return void socket.end(rawResponse(refused?.status ?? 400, refused?.reason ?? "Bad request."));
    const base = this.exchangeOf(req, undefined as unknown as Response, secure, target);
    const ex: UpgradeExchange = { ...base, req, socket, head };
    this.policy.accessLog?.trackUpgrade(ex);
    const refuse = (code: number, text: string, extra?: Record<string, string>) => {
      ex.status = code;
      socket.end(rawResponse(code, text, extra));
    };
    if (this.connections.draining) return refuse(503, "Shutting down.");
    const site = this.sites.match(ex.host);
    if (!site) return refuse(this.policy.unknownHostStatus ?? (secure ? 421 : 404), "Unknown host.");
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

  private httpsOn(site: SiteRuntime, host: string): boolean {
    return this.httpsServer !== undefined && tlsEnabled(site.config) && this.options.certificates.has(host);
  }

  private answerChallenge(ex: Exchange): void {
    const token = ex.path.slice(ACME_CHALLENGE_PREFIX.length);
    const known = this.options.challenges.lookup(token);
    if (known !== undefined) return this.sendAnswer(ex, token, known);
    this.options.challenges.resolve(token).then(
      (shared) => this.sendAnswer(ex, token, shared),
      (err: unknown) => this.requestFailed(ex.req, ex.res, err),
    );
  }

  private sendAnswer(ex: Exchange, token: string, keyAuthorization: string | undefined): void {
    if (keyAuthorization === undefined) {
      const shown = clientText(token, 64);
      this.clientLog.warn("unknown ACME token", { host: ex.host, token: shown }, `ACME challenge requested for unknown token ${shown} (host ${ex.host})`);
    }
    ex.bytesSent = sendKeyAuthorization(ex.res, keyAuthorization);
  }

  private exchangeOf(req: Request, res: Response, secure: boolean, target: RequestTarget): Exchange {
    const authority = target.authority ?? (isHttp2(req) && req.authority ? req.authority : req.headers.host);
    const host = hostOf(authority);
    return {
      req,
      res,
      secure,
      host,
      authority: authority ?? "",
      path: target.path,
      search: target.search,
      client: resolveClient(req.headers, req.socket?.remoteAddress, secure, authority ?? host, this.policy.trustedProxies),
      startedAt: performance.now(),
      bytesSent: undefined, // set by handlers: part of the object's shape from the start
    };
  }
}

function policyOf(p: EdgePolicy): Edge["policy"] {
  return {
    unknownHostStatus: p.unknownHostStatus,
    redirectStatus: p.redirectStatus ?? 308,
    trustedProxies: p.trustedProxies ?? new TrustedProxies(),
    accessLog: p.accessLog,
  };
}

/** Upgrade: websocket, the one upgrade padlock passes on. */
function isWebSocket(req: http.IncomingMessage): boolean {
  return req.headers.upgrade?.toLowerCase() === "websocket";
}

/**
 * HTTP/1.1 connections on the HTTPS listener are parsed by Node's http module, which reads its
 * limits from the server object; http2.createSecureServer does not take them as options.
 */
function applyHttp1Limits(server: http2.Http2SecureServer, limits: Required<EdgeLimits>): void {
  Object.assign(server, {
    requireHostHeader: false,
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


