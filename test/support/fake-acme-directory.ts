// A tiny stand-in for a CA's directory endpoint: the tests choose what it advertises and how
// far its clock (the Date header) is off, over HTTP or HTTPS. Only /dir is served.
import http from "node:http";
import https from "node:https";
import type { AddressInfo } from "node:net";

export interface FakeDirectoryOptions {
  meta?: Record<string, unknown>;
  renewalInfo?: boolean;
  /** Added to the real time in the Date header (negative: the CA is behind). */
  clockOffsetMs?: number;
  tls?: { key: string; cert: string };
}

export class FakeAcmeDirectory {
  private constructor(private readonly server: http.Server | https.Server, readonly url: string) {}

  static async start(options: FakeDirectoryOptions = {}): Promise<FakeAcmeDirectory> {
    let base = "";
    const handler: http.RequestListener = (req, res) => {
      if (req.url !== "/dir") {
        res.writeHead(404).end();
        return;
      }
      const directory = {
        newNonce: `${base}/nonce`,
        newAccount: `${base}/account`,
        newOrder: `${base}/order`,
        revokeCert: `${base}/revoke`,
        keyChange: `${base}/key-change`,
        ...(options.renewalInfo ? { renewalInfo: `${base}/renewal-info` } : {}),
        meta: options.meta ?? {},
      };
      res.setHeader("date", new Date(Date.now() + (options.clockOffsetMs ?? 0)).toUTCString());
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(directory));
    };
    const server = options.tls ? https.createServer(options.tls, handler) : http.createServer(handler);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as AddressInfo).port;
    base = `${options.tls ? "https" : "http"}://127.0.0.1:${port}`;
    return new FakeAcmeDirectory(server, `${base}/dir`);
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}
