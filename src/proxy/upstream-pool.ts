// The upstreams of one proxy route: a keep-alive connection pool each, picked round-robin,
// with passive health: an upstream that refuses or times out is skipped for a while.
import { Pool } from "undici";

export interface Upstream {
  /** As written in the config, for logs. */
  label: string;
  origin: string;
  /** host[:port] of the origin, the Host header when the client's is not preserved. */
  host: string;
  /** Path prefix from the upstream URL ("" for http://host:port or http://host:port/). */
  basePath: string;
  pool: Pool;
  /** Skipped until this time (ms since epoch) after a failure. */
  downUntil: number;
}

export interface UpstreamGroupOptions {
  /** How long a failed upstream is skipped. */
  holdDownMs?: number;
  /** Idle keep-alive connections are closed after this long. */
  keepAliveMs?: number;
  connectTimeoutMs?: number;
  /** Most connections per upstream. */
  connections?: number;
}

export class UpstreamGroup {
  private readonly upstreams: Upstream[];
  private next = 0;
  private readonly holdDownMs: number;

  constructor(urls: string[], options: UpstreamGroupOptions = {}) {
    this.holdDownMs = options.holdDownMs ?? 10_000;
    this.upstreams = urls.map((label) => {
      const url = new URL(label.replace(/^ws(s?):/, "http$1:"));
      return {
        label,
        origin: url.origin,
        host: url.host,
        basePath: url.pathname.replace(/\/$/, ""),
        downUntil: 0,
        pool: new Pool(url.origin, {
          connections: options.connections ?? 256,
          pipelining: 1,
          keepAliveTimeout: options.keepAliveMs ?? 30_000,
          connectTimeout: options.connectTimeoutMs ?? 10_000,
          // Per-request timeouts are set on each dispatch.
          headersTimeout: 0,
          bodyTimeout: 0,
        }),
      };
    });
  }

  /**
   * The next healthy upstream in turn, skipping `exclude`. When every candidate is down, the one
   * that went down first is tried anyway: a guess beats a certain error page.
   */
  pick(exclude?: Upstream): Upstream | undefined {
    const now = Date.now();
    const n = this.upstreams.length;
    let fallback: Upstream | undefined;
    for (let i = 0; i < n; i++) {
      const candidate = this.upstreams[(this.next + i) % n]!;
      if (candidate === exclude) continue;
      if (candidate.downUntil <= now) {
        this.next = (this.next + i + 1) % n;
        return candidate;
      }
      if (!fallback || candidate.downUntil < fallback.downUntil) fallback = candidate;
    }
    return fallback;
  }

  markFailed(upstream: Upstream): void {
    upstream.downUntil = Date.now() + this.holdDownMs;
  }

  markHealthy(upstream: Upstream): void {
    upstream.downUntil = 0;
  }

  /** Waits for requests in flight, then closes the connections. */
  async close(): Promise<void> {
    await Promise.all(this.upstreams.map((u) => u.pool.close()));
  }
}
