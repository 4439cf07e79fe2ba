// Hostile requests sent to padlock and to nginx (Debian's, default settings) serving the same
// folder under the same name, with a default server that answers 404 for other hosts: padlock
// answers each the way nginx does, or where it deliberately differs, the way the table says and why.
import test, { after, before } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { freePort, tempDir } from "../support/env.js";
import { Nginx } from "../support/nginx.js";
import { startPadlock, type RunningPadlock } from "../support/padlock-in-process.js";
import { rawRequest, sendRaw } from "../support/raw-client.js";

const NAME = "blog.test";
const HOST = `Host: ${NAME}`;
let nginx: Nginx;
let padlock: Omit<RunningPadlock, "httpsPort">;
let www: { dir: string; remove(): void };

before(async () => {
  www = tempDir("parity");
  mkdirSync(path.join(www.dir, "sub"));
  writeFileSync(path.join(www.dir, "index.html"), "home\n");
  writeFileSync(path.join(www.dir, "sub", "index.html"), "sub\n");
  writeFileSync(path.join(www.dir, "x"), "x\n");
  const port = await freePort();
  nginx = await Nginx.start(port, () => `
  server { listen 127.0.0.1:${port} default_server; return 404; }
  server { listen 127.0.0.1:${port}; server_name ${NAME}; root ${www.dir}; }`);
  padlock = await startPadlock({ sites: [{ hosts: [NAME], static: www.dir, http: "serve" }] }, { httpsPort: false });
});
after(async () => {
  await Promise.all([nginx.close(), padlock.close()]);
  www.remove();
});

/** [request line, header lines, body, padlock's answer where it differs from nginx's: [status, why]] */
type Case = [string, string[], string?, [number, string]?];
const CASES: Case[] = [
  ["GET / HTTP/1.1", [HOST]],
  ["GET / HTTP/2.0", [HOST]],
  ["GET * HTTP/1.1", [HOST]],
  ["OPTIONS * HTTP/1.1", [HOST]],
  ["CONNECT blog.test:443 HTTP/1.1", [HOST]],
  ["GET / HTTP/0.9", [HOST]],
  ["GET /sub/../../x HTTP/1.1", [HOST]],
  ["GET /%2e%2e/x HTTP/1.1", [HOST]],
  ["GET /sub/%2e%2e/x HTTP/1.1", [HOST]],
  ["GET /%00 HTTP/1.1", [HOST]],
  ["GET /%zz HTTP/1.1", [HOST]],
  ["GET http://other.test/x HTTP/1.1", [HOST]],
  ["GET / HTTP/1.1", ["Host: other.test"]],
  ["GET / HTTP/1.1", []],
  ["GET / HTTP/1.0", []],
  ["GET / HTTP/1.1", [HOST, "Host: other.test"]],
  ["GET / HTTP/1.1", [HOST, "Host : other.test"]],
  ["GET / HTTP/1.1", [HOST, "X_Forwarded_For: 6.6.6.6"]],
  ["POST /x HTTP/1.1", [HOST, "Content-Length: 3, 4"], "abc"],
  ["POST /x HTTP/1.1", [HOST, "Content-Length: 3", "Transfer-Encoding: chunked"], "abc"],
  ["POST /x HTTP/1.1", [HOST, "Content-Length: -1"], "abc"],
  ["GET / HTTP/1.1", [HOST, "X-Folded: a", " b"]],
  ["GET //sub HTTP/1.1", [HOST], "", [308, "nginx answers 301 with an absolute http:// URL; padlock's redirects keep the method (308) and say /sub/, never //sub/"]],
  ["GET / HTTP/1.1", [HOST, `X-Big: ${"b".repeat(20_000)}`], "", [431, "nginx says 400 for a head over its buffers; 431 names the cause"]],
  ["GET / HTTP/3.0", [HOST]],
  ["GET / HTTP/1.2", [HOST], "", [505, "nginx takes any HTTP/1.x as HTTP/1.1; Node's parser knows 1.0 and 1.1 only"]],
  ["BREW / HTTP/1.1", [HOST], "", [400, "Node's parser refuses unknown methods; nginx says 405 for a static file"]],
  ["POST /x HTTP/1.1", [HOST, "Transfer-Encoding: gzip"], "abc", [400, "a body whose last coding is not chunked has no known end (RFC 9112 §6.3 says 400); nginx says 501"]],
];

test("padlock answers hostile requests as nginx does, or differs where it says why", async (t) => {
  const rows: string[] = [];
  for (const [line, headers, body = "", differs] of CASES) {
    const bytes = rawRequest(line, [...headers, "Connection: close"], body);
    const [fromNginx, fromPadlock] = await Promise.all([sendRaw(nginx.port, bytes), sendRaw(padlock.httpPort, bytes)]);
    const label = `${line} ${headers.map((h) => h.slice(0, 40)).join(" | ")}`;
    rows.push(`${String(fromPadlock.status).padEnd(4)} nginx ${fromNginx.status}  ${label}`);
    assert.ok(fromPadlock.status !== undefined, `${label}: padlock answered (${fromPadlock.error ?? "nothing"})`);
    if (differs) {
      assert.equal(fromPadlock.status, differs[0], `${label}: ${differs[1]}`);
      assert.notEqual(fromNginx.status, fromPadlock.status, `${label}: nginx now agrees; take the difference out of the table`);
    } else {
      assert.equal(fromPadlock.status, fromNginx.status, `${label}: padlock ${fromPadlock.status}, nginx ${fromNginx.status}`);
    }
  }
  // The redirect for //sub goes to the same place as nginx's, on this host.
  const redirect = await sendRaw(padlock.httpPort, rawRequest("GET //sub HTTP/1.1", [HOST, "Connection: close"]));
  assert.equal(redirect.headers.location, "/sub/");
  t.diagnostic(`padlock, nginx, request:\n${rows.join("\n")}`);
});
