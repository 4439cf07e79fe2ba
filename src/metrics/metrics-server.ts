// GET /metrics on its own listener (off by default), separate from the sites' ports.
import http from "node:http";
import type { CertificateManager } from "../certificates/certificate-manager.js";
import type { ListenAddress } from "../config/addresses.js";
import type { PadlockMetrics } from "./metrics.js";

export class MetricsServer {
  private constructor(private readonly server: http.Server) {}

  static async start(address: ListenAddress, metrics: PadlockMetrics, manager: () => CertificateManager | undefined): Promise<MetricsServer> {
    const server = http.createServer((req, res) => {
      if (req.url !== "/metrics" || (req.method !== "GET" && req.method !== "HEAD")) {
        res.writeHead(404, { "content-type": "text/plain" }).end("Metrics are at /metrics.\n");
        return;
      }
      const body = metrics.render(manager()?.status() ?? []);
      res.writeHead(200, { "content-type": "text/plain; version=0.0.4; charset=utf-8", "content-length": Buffer.byteLength(body) });
      res.end(req.method === "HEAD" ? undefined : body);
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(address.port, address.host, () => resolve());
    });
    return new MetricsServer(server);
  }

  get port(): number {
    return (this.server.address() as { port: number }).port;
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
  }
}
