// A minimal Node HTTPS server on loopback presenting a given certificate chain, for tests that
// check what clients (curl, Chromium) think of a certificate.
import https from "node:https";
import type { AddressInfo } from "node:net";

export interface TestHttpsServer {
  port: number;
  close(): Promise<void>;
}

export async function startHttpsServer(options: { chainPem: string; keyPem: string; host: string; body?: string }): Promise<TestHttpsServer> {
  const server = https.createServer({ cert: options.chainPem, key: options.keyPem }, (_req, res) => {
    res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
    res.end(options.body ?? "<!doctype html><title>padlock test</title><h1>served over HTTPS</h1>");
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, options.host, resolve);
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
