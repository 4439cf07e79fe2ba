// Reference point for bench/proxy: a bare Node HTTPS server (HTTP/2 + HTTP/1.1, like padlock's
// listener) answering the same 1 KiB page itself, no proxying. Its rate is the most any
// Node-based proxy could reach on this machine. Prints its port; stops on SIGTERM.
import http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { readFileSync } from "node:fs";

const [keyFile, certFile] = process.argv.slice(2);
const body = Buffer.from("x".repeat(1024));
const server = http2.createSecureServer({ allowHTTP1: true, key: readFileSync(keyFile!), cert: readFileSync(certFile!) }, (_req, res) => {
  res.writeHead(200, { "content-type": "text/plain", "content-length": body.length });
  res.end(body);
});
server.listen(0, "127.0.0.1", () => process.stdout.write(JSON.stringify({ https: (server.address() as AddressInfo).port }) + "\n"));
process.once("SIGTERM", () => process.exit(0));
