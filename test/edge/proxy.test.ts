// Proxy behaviour against real upstreams: errors (502, 504), round-robin with passive health,
// body limits, hop-by-hop headers, Host handling, WebSocket pass-through on both listeners.
import test, { after, before } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { writeFileSync } from "node:fs";
import path from "node:path";
import type { AddressInfo } from "node:net";
import WebSocket from "ws";
import { curl, httpArgs, httpsArgs } from "../support/clients.js";
import { startPadlock, type RunningPadlock } from "../support/padlock-in-process.js";
import { waitFor } from "../support/env.js";
import { makeTestPki, type TestPki } from "../support/tls.js";
import { startEchoUpstream, startWsEchoUpstream, type Echo, type TestUpstream } from "../support/upstreams.js";

const NAME = "proxy.test";
const PLAIN = "plain.test";
let pki: TestPki;
let a: TestUpstream;
let b: TestUpstream;
let ws: TestUpstream;
let closedPort: number;
let edge: RunningPadlock;

/** A port nothing listens on: bound, then released. */
async function freePort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

before(async () => {
  pki = makeTestPki([NAME]);
  [a, b, ws] = await Promise.all([startEchoUpstream("a"), startEchoUpstream("b"), startWsEchoUpstream()]);
  closedPort = await freePort();
  edge = await startPadlock(
    {
      sites: [
        {
          hosts: [NAME],
          proxy: a.url,
          routes: [
            { path: "/pair/", proxy: [a.url, b.url] },
            { path: "/half-down/", proxy: [`http://127.0.0.1:${closedPort}`, b.url] },
            { path: "/down/", proxy: `http://127.0.0.1:${closedPort}` },
            { path: "/hurry/", proxy: a.url, timeout: 0.3 },
            { path: "/small/", proxy: a.url, max_body: "1kb" },
            { path: "/own-host/", proxy: a.url, preserve_host: false },
            { path: "/ws/", proxy: ws.url },
          ],
        },
        { hosts: [PLAIN], http: "serve", tls: { enabled: false }, routes: [{ path: "/ws/", proxy: ws.url }] },
      ],
    },
    { pki, certNames: [NAME] },
  );
});
after(async () => {
  await edge.close();
  await Promise.all([a.close(), b.close(), ws.close()]);
});

const get = (path: string, extra: string[] = []) => curl([...extra, ...httpsArgs(pki, NAME, edge.httpsPort, path)]);

test("refused upstream → 502 with a short page and a log line", async () => {
  for (const flag of ["--http1.1", "--http2"]) {
    const res = await get("/down/x", [flag]);
    assert.equal(res.status, 502);
    assert.match(res.body, /Bad gateway/);
  }
  assert.ok(edge.logs.some((l) => String(l.msg).includes("ECONNREFUSED") && String(l.msg).includes("502")));
});

test("slow upstream → 504 with a short page and a log line", async () => {
  const res = await get("/hurry/slow?ms=3000");
  assert.equal(res.status, 504);
  assert.match(res.body, /Gateway timeout/);
  assert.ok(edge.logs.some((l) => String(l.msg).includes("did not answer in time") && l.path === "/hurry/slow"));
});

test("several upstreams are used in turn", async () => {
  const seen = [];
  for (let i = 0; i < 4; i++) seen.push((JSON.parse((await get("/pair/")).body) as Echo).upstream);
  assert.deepEqual(seen.sort(), ["a", "a", "b", "b"]);
});

test("an upstream that refuses is skipped; requests still succeed", async () => {
  for (let i = 0; i < 6; i++) {
    const res = await get("/half-down/");
    assert.equal(res.status, 200, res.body);
    assert.equal((JSON.parse(res.body) as Echo).upstream, "b");
  }
});

test("request bodies over max_body → 413 (declared or streamed)", async () => {
  const big = "x".repeat(4096);
  const declared = await get("/small/", ["-X", "POST", "--data-binary", big]);
  assert.equal(declared.status, 413);
  const chunked = await get("/small/", ["--http1.1", "-X", "POST", "-H", "Transfer-Encoding: chunked", "--data-binary", big]);
  assert.equal(chunked.status, 413);
  const h2 = await get("/small/", ["--http2", "-X", "POST", "-H", "content-length:", "--data-binary", big]);
  assert.equal(h2.status, 413);
  const fine = await get("/small/", ["-X", "POST", "--data-binary", "small"]);
  assert.equal(fine.status, 200);
  assert.equal((JSON.parse(fine.body) as Echo).bodyBytes, 5);
});

test("hop-by-hop headers are removed both ways; no Server header reaches the client", async () => {
  const res = await get("/status?code=200", ["--http1.1"]);
  assert.equal(res.headers.server, undefined);
  assert.notEqual(res.headers["keep-alive"], "timeout=5", "the upstream's Keep-Alive is not relayed");
  const echo = JSON.parse((await get("/", ["--http1.1", "-H", "Connection: keep-alive, X-Secret", "-H", "X-Secret: 1", "-H", "Keep-Alive: timeout=5", "-H", "TE: trailers", "-H", "X-Kept: yes"])).body) as Echo;
  assert.equal(echo.headers["x-secret"], undefined, "headers named in Connection are hop-by-hop");
  assert.equal(echo.headers["keep-alive"], undefined);
  assert.equal(echo.headers.te, undefined);
  assert.equal(echo.headers["x-kept"], "yes");
});

test("preserve_host: false sends the upstream's own host", async () => {
  const echo = JSON.parse((await get("/own-host/")).body) as Echo;
  assert.equal(echo.headers.host, `127.0.0.1:${a.port}`);
  assert.equal(echo.headers["x-forwarded-host"], `${NAME}:${edge.httpsPort}`);
});

test("large-ish bodies pass both ways intact over HTTP/2", async () => {
  const res = await get("/big?bytes=3000000", ["--http2"]);
  assert.equal(res.status, 200);
  assert.equal(res.body.length, 3_000_000);
  const file = path.join(pki.dir, "upload.bin");
  writeFileSync(file, Buffer.alloc(300_000, 1));
  const upload = JSON.parse((await get("/", ["--http2", "-X", "PUT", "--data-binary", `@${file}`])).body) as Echo;
  assert.equal(upload.bodyBytes, 300_000);
});

async function wsEcho(url: string, options: WebSocket.ClientOptions): Promise<{ hello: { headers: Record<string, string> }; echoed: string }> {
  const socket = new WebSocket(url, options);
  const messages: string[] = [];
  await new Promise<void>((resolve, reject) => {
    socket.on("message", (data) => {
      messages.push(String(data));
      if (messages.length === 1) socket.send("ping over padlock");
      if (messages.length === 2) resolve();
    });
    socket.on("error", reject);
  });
  socket.close();
  return { hello: JSON.parse(messages[0]!) as { headers: Record<string, string> }, echoed: messages[1]! };
}

test("WebSocket echo over HTTPS (HTTP/1.1 upgrade on the HTTP/2 listener)", async () => {
  const { hello, echoed } = await wsEcho(`wss://127.0.0.1:${edge.httpsPort}/ws/echo`, { ca: pki.ca, servername: NAME, headers: { host: NAME } } as WebSocket.ClientOptions);
  assert.equal(echoed, "ping over padlock");
  assert.equal(hello.headers["x-forwarded-proto"], "https");
  assert.equal(hello.headers["x-forwarded-for"], "127.0.0.1");
  await waitFor("the upgrade in the access log", () => edge.access.some((l) => l.includes('"status":101')));
});

test("WebSocket echo over plain HTTP where the site serves HTTP", async () => {
  const { echoed, hello } = await wsEcho(`ws://127.0.0.1:${edge.httpPort}/ws/echo`, { headers: { host: PLAIN } });
  assert.equal(echoed, "ping over padlock");
  assert.equal(hello.headers["x-forwarded-proto"], "http");
});

test("a WebSocket upgrade the upstream declines reaches the client as the upstream's answer", async () => {
  const res = await curl([...httpArgs(PLAIN, edge.httpPort, "/nows/"), "-H", "Connection: Upgrade", "-H", "Upgrade: websocket"]);
  assert.equal(res.status, 404);
  // Logged as what the client got, not as a joined upgrade (101).
  await waitFor("the declined upgrade in the access log", () => edge.access.some((l) => l.includes('"path":"/nows/"') && l.includes('"status":404')));
});
