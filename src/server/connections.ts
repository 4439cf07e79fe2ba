// The connections of both listeners, kept so that a shutdown drains them instead of cutting
// answers off: HTTP/2 sessions get GOAWAY, idle HTTP/1.1 connections close at once, busy ones
// after their response, and whatever is still open at the deadline (upgraded WebSocket
// connections included, which have no request to finish) is cut.
import type http from "node:http";
import type http2 from "node:http2";
import type { Duplex } from "node:stream";
import type { Logger } from "../log.js";
import type { Response } from "./exchange.js";

export class Connections {
  /**
   * HTTP/1.x connections (HTTP/2 sessions aside), each with its newest response not finished yet
   * (undefined when idle). A value per connection, not a set of responses: adding and removing a
   * set member for every request showed in profiles.
   */
  private readonly http1 = new Map<Duplex, Response | undefined>();
  private readonly h2Sessions = new Set<http2.ServerHttp2Session>();
  /** Upgraded (WebSocket) connections: cut at the shutdown deadline, they have no request to finish. */
  private readonly upgraded = new Set<Duplex>();
  /** Shutting down: new requests on open connections get their answer, then the connection closes. */
  draining = false;

  trackHttp1(socket: Duplex): void {
    this.http1.set(socket, undefined);
    socket.once("close", () => this.http1.delete(socket));
  }

  /** An idle session gets GOAWAY after `idleTimeoutMs`; streams still open (a slow upstream, a long poll) finish. */
  trackSession(session: http2.ServerHttp2Session, idleTimeoutMs: number): void {
    session.setTimeout(idleTimeoutMs, () => session.close());
    this.h2Sessions.add(session);
    session.once("close", () => this.h2Sessions.delete(session));
    if (this.draining) session.close();
  }

  trackUpgraded(socket: Duplex): void {
    this.upgraded.add(socket);
    socket.once("close", () => this.upgraded.delete(socket));
  }

  /** The response the connection is busy with, if any (a pipelined request waits for it). */
  busyWith(socket: Duplex): Response | undefined {
    return this.http1.get(socket);
  }

  /** Notes the request's response on its connection; false for a connection not tracked. */
  requestStarted(socket: Duplex, res: Response): boolean {
    if (!this.http1.has(socket)) return false;
    this.http1.set(socket, res);
    return true;
  }

  requestDone(socket: Duplex, res: Response): void {
    // With pipelining an older response can finish after a newer one started: the newer one stays.
    if (this.http1.get(socket) !== res) return;
    this.http1.set(socket, undefined);
    if (this.draining) socket.end();
  }

  /** Stops the listeners accepting, drains the connections, and resolves once the listeners are closed. */
  async drain(servers: (http.Server | http2.Http2SecureServer | undefined)[], deadlineMs: number, log: Logger): Promise<void> {
    this.draining = true;
    const closed = Promise.all(servers.map(closeServer));
    for (const session of this.h2Sessions) session.close();
    for (const [socket, res] of this.http1) {
      if (!res) socket.end();
      else if (!res.headersSent) res.setHeader("connection", "close");
    }
    const timer = setTimeout(() => {
      log.warn("shutdown deadline reached: closing connections still open");
      for (const server of servers) if (server && "closeAllConnections" in server) server.closeAllConnections();
      for (const session of this.h2Sessions) session.destroy();
      for (const socket of this.http1.keys()) socket.destroy();
      for (const socket of this.upgraded) socket.destroy();
    }, deadlineMs);
    await closed;
    clearTimeout(timer);
  }
}

function closeServer(server: http.Server | http2.Http2SecureServer | undefined): Promise<void> {
  if (!server?.listening) return Promise.resolve();
  return new Promise((resolve) => server.close(() => resolve()));
}
