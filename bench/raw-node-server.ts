// The floor for the benches: the smallest Node server answering every request with one response
// from memory (a body file and header fields given as JSON), under padlock's TLS policy with the
// same certificate chain. "https": node:https (HTTP/1.1 only, no SNI callback); "https-tickets":
// the same, sending a new TLS 1.3 session ticket on every resumed connection as padlock does
// (src/tls/renewed-tickets.ts; Node alone sends none, so single-use tickets resume every other
// connection); "http2": node:http2's createSecureServer with allowHTTP1, the listener padlock is
// built on. Prints its port as a JSON line; stops on SIGTERM.
//   node dist/bench/raw-node-server.js https|https-tickets|http2 KEY CHAIN '{"bodyFile":…,"headers":{…}}'
import https from "node:https";
import http2 from "node:http2";
import { readFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { randomBytes } from "node:crypto";
import { secureContextOptions } from "../src/tls/tls-policy.js";
import { renewTicketsOnResumption } from "../src/tls/renewed-tickets.js";

const [kind, keyFile, chainFile, answerJson] = process.argv.slice(2);
const answer = JSON.parse(answerJson!) as { bodyFile: string; headers: Record<string, string> };
const body = readFileSync(answer.bodyFile);
const headers = { ...answer.headers, "content-length": String(body.length) };
const tls = secureContextOptions({ key: readFileSync(keyFile!, "utf8"), cert: readFileSync(chainFile!, "utf8") });
const respond = (_req: unknown, res: { writeHead(status: number, headers: Record<string, string>): void; end(body: Buffer): void }) => {
  res.writeHead(200, headers);
  res.end(body);
};
const server = kind === "http2" ? http2.createSecureServer({ ...tls, allowHTTP1: true }, respond) : https.createServer({ ...tls, keepAliveTimeout: 60_000 }, respond);
if (kind === "https-tickets") {
  const ticketKeys = randomBytes(48);
  server.setTicketKeys(ticketKeys);
  if (!renewTicketsOnResumption(server, () => ticketKeys)) throw new Error("this Node cannot renew session tickets");
}
server.listen(0, "127.0.0.1", () => process.stdout.write(JSON.stringify({ https: (server.address() as AddressInfo).port }) + "\n"));
process.once("SIGTERM", () => process.exit(0));
