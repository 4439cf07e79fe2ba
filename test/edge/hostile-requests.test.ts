// What a hostile client sends, each case a defect padlock once had: a request line that stopped
// the process, protocol-relative redirects, client addresses forged for the upstream, a log a
// client could flood, a site answering any Host, paths and upgrades passed upstream unnormalised.
import test, { after, before } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import tls from "node:tls";
import http2 from "node:http2";
import { tempDir, waitFor } from "../support/env.js";
import { curl, httpArgs, httpsArgs } from "../support/clients.js";
import { servePadlock, writeConfig, type ServingPadlock } from "../support/padlock-process.js";
import { startPadlock, type RunningPadlock } from "../support/padlock-in-process.js";
import { rawRequest, sendRaw } from "../support/raw-client.js";
import { makeTestPki, type TestPki } from "../support/tls.js";
import { startEchoUpstream, startWsEchoUpstream, type Echo, type TestUpstream } from "../support/upstreams.js";
import type { SiteRuntime } from "../../src/server/site-runtime.js";
import type { Config } from "../../src/config/schema.js";
import WebSocket from "ws";

const NAME = "site.test";
const TRUSTED_PROXY = "127.0.0.2";
const UNTRUSTED_PEER = "127.0.0.3";

let work: { dir: string; remove(): void };
let upstream: TestUpstream;
let wsUpstream: TestUpstream;
let pki: TestPki;
let edge: RunningPadlock;

/** A static site with a sub folder, an /app/ route to an echoing upstream and /ws/ to a WebSocket one. */
function siteConfig(extra: Record<string, unknown> = {}) {
  return {
    hosts: [NAME],
    static: path.join(work.dir, "www"),
    http: "serve" as const,
    routes: [
      { path: "/app/", proxy: upstream.url },
      { path: "/ws/", proxy: wsUpstream.url },
    ],
    ...extra,
  };
}

before(async () => {
  work = tempDir("hostile");
  mkdirSync(path.join(work.dir, "www", "sub"), { recursive: true });
  writeFileSync(path.join(work.dir, "www", "index.html"), "the site\n");
  writeFileSync(path.join(work.dir, "www", "sub", "index.html"), "sub\n");
  writeFileSync(path.join(work.dir, "www", "x"), "static x\n");
  upstream = await startEchoUpstream();
  wsUpstream = await startWsEchoUpstream();
  pki = makeTestPki([NAME, "other.test"]);
  edge = await startPadlock({ trusted_proxies: [`${TRUSTED_PROXY}/32`], sites: [siteConfig()] }, { pki, certNames: [NAME] });
});
after(async () => {
  await edge.close();
  await Promise.all([upstream.close(), wsUpstream.close()]);
  work.remove();
});

test("a request line claiming HTTP/2 on an HTTP/1 connection gets 505 (400 for *), on both ports, and padlock keeps serving", async (t) => {
  const config = writeConfig(path.join(work.dir, "served.yaml"), { storage: path.join(work.dir, "data"), sites: [siteConfig({ tls: { internal: true } })] });
  const padlock: ServingPadlock = await servePadlock(["--config", config]);
  t.after(() => padlock.stop());
  const healthy = async () => {
    assert.equal((await sendRaw(padlock.httpPort, rawRequest("GET / HTTP/1.1", [`Host: ${NAME}`, "Connection: close"]))).status, 200, "plain HTTP still answers");
    const secure = await sendRaw(padlock.httpsPort, rawRequest("GET / HTTP/1.1", [`Host: ${NAME}`, "Connection: close"]), { tls: { servername: NAME } });
    assert.equal(secure.status, 200, `HTTPS still answers: ${secure.error ?? secure.text}`);
  };
  await healthy();
  const cases: [string, number][] = [
    ["GET * HTTP/2.0", 400],
    ["GET http://other/ HTTP/2.0", 505],
    ["GET / HTTP/2.0", 505],
    ["GET /app/x HTTP/3.0", 505],
    ["GET / HTTP/0.9", 400],
  ];
  for (const [line, status] of cases) {
    for (const secure of [false, true]) {
      const answer = await sendRaw(secure ? padlock.httpsPort : padlock.httpPort, rawRequest(line, [`Host: ${NAME}`]), secure ? { tls: { servername: NAME, ALPNProtocols: ["http/1.1"] } } : {});
      assert.equal(answer.status, status, `${line} over ${secure ? "TLS" : "TCP"}: ${answer.text}`);
      assert.equal(answer.headers.connection, "close");
      assert.equal(padlock.child.exitCode, null, `padlock exited after ${line}`);
      await healthy();
    }
  }
  assert.ok(!padlock.logLines().some((l) => l.level === 50), "no request failed with an exception");
});

test("an exception while a request is handled ends that request with a 500 naming a request id, logged once a minute, and nothing else", async () => {
  const site = (edge.padlock as unknown as { sites: SiteRuntime[] }).sites[0]!;
  const original = site.handle;
  try {
    site.handle = (ex) => (ex.path === "/sync" ? JSON.parse("{") : Promise.reject(new TypeError("async trouble")));
    const ids: string[] = [];
    for (const pathname of ["/sync", "/async", "/async"]) {
      const res = await curl(httpArgs(NAME, edge.httpPort, pathname));
      assert.equal(res.status, 500);
      const id = /\(request ([0-9a-f]+-\d+)\)/.exec(res.body)?.[1];
      assert.ok(id, res.body);
      ids.push(id);
    }
    const errors = edge.logs.filter((l) => l.level === 50);
    assert.deepEqual(errors.map((e) => e.request_id), ids.slice(0, 2), "one ERROR line per kind of failure within a minute, naming its request");
    assert.match(String((errors[0]!.err as { stack?: string }).stack), /SyntaxError/);
    assert.match(String((errors[1]!.err as { stack?: string }).stack), /TypeError: async trouble\n\s+at /);
  } finally {
    site.handle = original;
  }
  assert.equal((await curl(httpArgs(NAME, edge.httpPort, "/"))).status, 200);
});

test("a request for //sub or ///sub is redirected to /sub/, never to a protocol-relative //sub/", async () => {
  for (const target of ["//sub", "///sub", "/sub", "/./sub", "//./sub"]) {
    const res = await sendRaw(edge.httpPort, rawRequest(`GET ${target} HTTP/1.1`, [`Host: ${NAME}`]));
    assert.equal(res.status, 308, target);
    assert.equal(res.headers.location, "/sub/", target);
  }
});

test("client-address fields and fields with underscores from an untrusted client never reach the upstream; a trusted proxy's do", async () => {
  const forged = [
    "X_Forwarded_For: 6.6.6.1",
    "X_Real_IP: 6.6.6.2",
    "Client-IP: 6.6.6.3",
    "True-Client-IP: 6.6.6.4",
    "CF-Connecting-IP: 6.6.6.5",
    "X-Client-IP: 6.6.6.6",
    "X-Cluster-Client-IP: 6.6.6.7",
    "Fastly-Client-IP: 6.6.6.8",
    "X-Original-Forwarded-For: 6.6.6.9",
    "X-Real-IP: 6.6.6.10",
    "X-Forwarded-For: 6.6.6.11",
  ];
  const args = (peer: string) => ["--interface", peer, ...forged.flatMap((h) => ["-H", h]), ...httpsArgs(pki, NAME, edge.httpsPort, "/app/who")];
  const untrusted = JSON.parse((await curl(args(UNTRUSTED_PEER))).body) as Echo;
  assert.doesNotMatch(JSON.stringify(untrusted.rawHeaders), /6\.6\.6/, "no forged address reaches the app");
  assert.doesNotMatch(JSON.stringify(untrusted.rawHeaders), /_/, "no field with an underscore in its name");
  assert.equal(untrusted.headers["x-forwarded-for"], UNTRUSTED_PEER);
  assert.equal(untrusted.headers["x-real-ip"], UNTRUSTED_PEER);

  const viaProxy = JSON.parse((await curl(args(TRUSTED_PROXY))).body) as Echo;
  assert.equal(viaProxy.headers["cf-connecting-ip"], "6.6.6.5", "a trusted proxy's client-address fields pass");
  assert.equal(viaProxy.headers["x_forwarded_for"], "6.6.6.1");
  assert.equal(viaProxy.headers["x-real-ip"], "6.6.6.11", "padlock's own X-Real-IP: the client the trusted proxy reported");

  // The WebSocket handshake takes the same rule.
  const ws = new WebSocket(`wss://127.0.0.1:${edge.httpsPort}/ws/`, [], { headers: { host: NAME, "True-Client-IP": "6.6.6.4", X_Real_IP: "6.6.6.2" }, rejectUnauthorized: false });
  const hello = await new Promise<{ headers: Record<string, string> }>((resolve, reject) => {
    ws.once("message", (data) => resolve(JSON.parse(String(data)) as { headers: Record<string, string> }));
    ws.once("error", reject);
  });
  ws.close();
  assert.equal(hello.headers["true-client-ip"], undefined);
  assert.equal(hello.headers["x_real_ip"], undefined);
  assert.equal(hello.headers["x-forwarded-for"], "127.0.0.1");
});

test("requests for unknown ACME tokens cannot flood the log: one cut, escaped line a minute", async () => {
  const before = edge.logs.length;
  const token = "%01%1b[31m" + "A".repeat(5000);
  for (let i = 0; i < 30; i++) {
    const res = await sendRaw(edge.httpPort, rawRequest(`GET /.well-known/acme-challenge/${token}${i} HTTP/1.1`, [`Host: ${NAME}`, "Connection: close"]));
    assert.equal(res.status, 404);
  }
  const lines = edge.logs.slice(before).filter((l) => /unknown token/.test(l.msg));
  assert.equal(lines.length, 1, "one line for 30 requests within a minute");
  assert.ok(lines[0]!.msg.length < 300, `a cut line (${lines[0]!.msg.length} characters)`);
  assert.ok(String(lines[0]!.token).length < 150);
  assert.doesNotMatch(JSON.stringify(lines[0]), /\\u001b|\\u0001/, "no control characters");
});

test("a site answers its own names only: another host gets 404 over HTTP and 421 over HTTPS, with none of the site's content", async () => {
  const http = await curl(httpArgs("other.test", edge.httpPort, "/"));
  assert.equal(http.status, 404);
  assert.doesNotMatch(http.body, /the site/);
  const https = await curl(["-H", "Host: other.test", ...httpsArgs(pki, NAME, edge.httpsPort, "/")]);
  assert.equal(https.status, 421);
  assert.doesNotMatch(https.body, /the site/);
  const challenge = await curl(httpArgs("other.test", edge.httpPort, "/.well-known/acme-challenge/anything"));
  assert.equal(challenge.status, 404);

  const withDefault = await startPadlock({ sites: [siteConfig({ default: true })] }, { httpsPort: false });
  try {
    const served = await curl(httpArgs("other.test", withDefault.httpPort, "/"));
    assert.equal(served.status, 200);
    assert.equal(served.body, "the site\n", "default: true answers unknown hosts, as nginx's default_server");
  } finally {
    await withDefault.close();
  }
});

test("a handshake without SNI, or with a name no certificate has, gets the default site's certificate (else the first site's), whatever was installed last", async () => {
  const first = makeTestPki(["first.test"]);
  const second = makeTestPki(["second.test"]);
  const firstSite = { hosts: ["first.test"], static: path.join(work.dir, "www") };
  const secondSite = { hosts: ["second.test"], static: path.join(work.dir, "www") };
  const subjectOf = async (port: number, servername?: string) =>
    new Promise<string>((resolve, reject) => {
      const socket = tls.connect({ host: "127.0.0.1", port, servername, rejectUnauthorized: false }, () => {
        resolve(String(socket.getPeerCertificate().subject.CN));
        socket.end();
      });
      socket.once("error", reject);
    });
  const configs: [Config["sites"], string][] = [
    [[firstSite, secondSite], "first.test"],
    [[firstSite, { ...secondSite, default: true }], "second.test"],
  ];
  for (const [sites, expected] of configs) {
    const running = await startPadlock({ sites });
    try {
      const noCertificate = await sendRaw(running.httpsPort, "", { tls: {} });
      assert.match(noCertificate.error ?? "", /ALERT_HANDSHAKE_FAILURE/, "before any certificate: a TLS alert, not a silent close");
      running.padlock.certificates.install(second.key, second.cert, ["second.test"], second.notAfter);
      running.padlock.certificates.install(first.key, first.cert, ["first.test"], first.notAfter);
      running.padlock.certificates.install(second.key, second.cert, ["second.test"], second.notAfter);
      assert.equal(await subjectOf(running.httpsPort), expected, "no SNI");
      assert.equal(await subjectOf(running.httpsPort, "unknown.test"), expected, "an SNI no site has");
      assert.equal(await subjectOf(running.httpsPort, "second.test"), "second.test");
    } finally {
      await running.close();
    }
  }
});

test("the path is normalised once, before routing: the upstream gets the path that was routed, and nothing climbs above the root", async () => {
  const get = (target: string, headers: string[] = []) => sendRaw(edge.httpPort, rawRequest(`GET ${target} HTTP/1.1`, [`Host: ${NAME}`, "Connection: close", ...headers]));
  const routedToStatic = await get("/app/../x");
  assert.equal(routedToStatic.status, 200);
  assert.equal(routedToStatic.body, "static x\n", "/app/../x is /x: the static file, not the app");
  const encoded = await get("/app/%2e%2e/x");
  assert.equal(encoded.body, "static x\n");
  const app = await get("/app/./a//b/%7Euser/%2F?q=%2e");
  assert.equal(app.status, 200);
  assert.equal((JSON.parse(app.body) as Echo).url, "/app/a/b/~user/%2F?q=%2e");
  for (const target of ["/..", "/app/../../etc/passwd", "/%2e%2e/x", "/a/%00"]) {
    const res = await get(target);
    assert.equal(res.status, 400, target);
  }
});

test("only Upgrade: websocket is passed on: h2c and other upgrades are answered as plain requests", async () => {
  for (const protocol of ["h2c", "TLS/1.2", "foo"]) {
    const res = await sendRaw(
      edge.httpPort,
      rawRequest("GET /app/up HTTP/1.1", [`Host: ${NAME}`, `Upgrade: ${protocol}`, "Connection: Upgrade, HTTP2-Settings", "HTTP2-Settings: AAMAAABkAAQAoAAAAAIAAAAA"]),
    );
    assert.equal(res.status, 200, res.text);
    const echo = JSON.parse(res.body) as Echo;
    assert.equal(echo.headers.upgrade, undefined, `Upgrade: ${protocol} never reaches the app`);
    assert.equal(echo.headers["http2-settings"], undefined);
  }
  const withBody = await sendRaw(edge.httpPort, rawRequest("POST /app/up HTTP/1.1", [`Host: ${NAME}`, "Upgrade: h2c", "Connection: Upgrade", "Content-Length: 3"], "abc"));
  assert.equal(withBody.status, 400);
  await waitFor("padlock still serving", async () => (await curl(httpArgs(NAME, edge.httpPort, "/"))).status === 200);
});

test("a request pipelined behind a refused one, or behind Connection: close, is not served and never reaches the upstream", async () => {
  const seen: string[] = [];
  const record = (req: { url?: string }) => seen.push(req.url ?? "");
  upstream.server.on("request", record);
  try {
    const behindRefused = await sendRaw(edge.httpPort, rawRequest("GET * HTTP/1.1", [`Host: ${NAME}`]) + rawRequest("GET /app/pipelined-1 HTTP/1.1", [`Host: ${NAME}`]));
    assert.equal(behindRefused.status, 400);
    assert.equal(behindRefused.text.match(/HTTP\/1\.1 \d{3}/g)?.length, 1, "one answer");
    for (const port of [edge.httpPort, edge.httpsPort]) {
      const tls = port === edge.httpsPort ? { servername: NAME, ca: pki.ca } : undefined;
      const behindNoHost = await sendRaw(port, rawRequest("GET /app/no-host HTTP/1.1", []) + rawRequest("GET /app/pipelined-3 HTTP/1.1", [`Host: ${NAME}`]), { tls });
      assert.equal(behindNoHost.status, 400, "HTTP/1.1 without Host");
      assert.match(behindNoHost.text, /requires a Host header field/);
      assert.equal(behindNoHost.text.match(/HTTP\/1\.1 \d{3}/g)?.length, 1, "one answer");
    }
    const http10 = await sendRaw(edge.httpPort, rawRequest("GET /app/old HTTP/1.0", []));
    assert.equal(http10.status, 404, "HTTP/1.0 needs no Host: it is for no site here");
    const behindClose = await sendRaw(edge.httpPort, rawRequest("GET /app/first HTTP/1.1", [`Host: ${NAME}`, "Connection: close"]) + rawRequest("GET /app/pipelined-2 HTTP/1.1", [`Host: ${NAME}`]));
    assert.equal(behindClose.status, 200);
    assert.equal(behindClose.text.match(/HTTP\/1\.1 \d{3}/g)?.length, 1, "one answer");
    const keptAlive = await sendRaw(edge.httpPort, rawRequest("GET /app/a HTTP/1.1", [`Host: ${NAME}`]) + rawRequest("GET /app/b HTTP/1.1", [`Host: ${NAME}`, "Connection: close"]));
    assert.equal(keptAlive.text.match(/HTTP\/1\.1 200/g)?.length, 2, "pipelining itself still works");
    assert.deepEqual(seen, ["/app/first", "/app/a", "/app/b"]);
  } finally {
    upstream.server.off("request", record);
  }
});

test("a request line with a full URL is routed on its host, and that host is what the upstream is told (never the Host field it overrides)", async () => {
  const res = await sendRaw(edge.httpPort, rawRequest(`GET http://${NAME}/app/abs HTTP/1.1`, ["Host: evil.test", "Connection: close"]));
  assert.equal(res.status, 200, res.text);
  const echo = JSON.parse(res.body) as Echo;
  assert.equal(echo.headers.host, NAME);
  assert.equal(echo.headers["x-forwarded-host"], NAME);
  const h2 = await curl(["--http2", "-H", "Host: evil.test", ...httpsArgs(pki, NAME, edge.httpsPort, "/app/h2")]);
  assert.equal(h2.status, 421, "curl sends Host as :authority: routed on evil.test, which no site serves");
});

test("WebSocket handshakes meet the same refusals as other requests, and one pipelined behind a refused request is not served", async () => {
  const seen: string[] = [];
  const record = (req: { url?: string }) => seen.push(req.url ?? "");
  wsUpstream.server.on("upgrade", record);
  const ws = ["Upgrade: websocket", "Connection: Upgrade", "Sec-WebSocket-Version: 13", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ=="];
  try {
    const cases: [string, string[], number][] = [
      ["GET /ws/v HTTP/2.0", [`Host: ${NAME}`, ...ws], 505],
      ["GET /ws/hosts HTTP/1.1", [`Host: ${NAME}`, "Host: other.test", ...ws], 400],
      ["GET /ws/te HTTP/1.1", [`Host: ${NAME}`, "Transfer-Encoding: gzip", ...ws], 400],
    ];
    for (const [line, headers, status] of cases) {
      const res = await sendRaw(edge.httpPort, rawRequest(line, headers));
      assert.equal(res.status, status, `${line}: ${res.text}`);
    }
    const behindRefused = await sendRaw(edge.httpPort, rawRequest("GET * HTTP/1.1", [`Host: ${NAME}`]) + rawRequest("GET /ws/behind HTTP/1.1", [`Host: ${NAME}`, ...ws]));
    assert.equal(behindRefused.status, 400);
    assert.doesNotMatch(behindRefused.text, /101 Switching/);
    const fine = await sendRaw(edge.httpPort, rawRequest("GET /ws/ok HTTP/1.1", [`Host: ${NAME}`, ...ws]));
    assert.equal(fine.status, 101, "a proper handshake still goes through");
    assert.deepEqual(seen, ["/ws/ok"]);
  } finally {
    wsUpstream.server.off("upgrade", record);
  }
});

test("a malformed request pipelined behind one still being answered leaves that answer alone; so do an h2c upgrade and a CONNECT behind it", async () => {
  const slow = await sendRaw(edge.httpPort, rawRequest("GET /app/slow?ms=300 HTTP/1.1", [`Host: ${NAME}`]) + "GARBAGE\u0001 / HTTP/1.1\r\n\r\n", { timeoutMs: 5000 });
  assert.equal(slow.status, 200, slow.text);
  assert.equal(slow.text.match(/HTTP\/1\.1 \d{3}/g)?.length, 1, "the connection ends after the answer, with no 400 in its place");
  const errorsBefore = edge.logs.filter((l) => l.level === 50).length;
  const upgradeBehind = await sendRaw(edge.httpPort, rawRequest("GET /app/slow?ms=200 HTTP/1.1", [`Host: ${NAME}`]) + rawRequest("GET /app/second HTTP/1.1", [`Host: ${NAME}`, "Upgrade: h2c", "Connection: Upgrade"]));
  assert.deepEqual(upgradeBehind.text.match(/HTTP\/1\.1 \d{3}/g), ["HTTP/1.1 200", "HTTP/1.1 200"], upgradeBehind.text.slice(0, 400));
  assert.match(upgradeBehind.text, /"url":"\/app\/slow\?ms=200"[\s\S]*"url":"\/app\/second"/, "both answered, in order");
  const connectBehind = await sendRaw(edge.httpPort, rawRequest("GET /app/slow?ms=200 HTTP/1.1", [`Host: ${NAME}`]) + rawRequest("CONNECT other.test:80 HTTP/1.1", [`Host: ${NAME}`]));
  assert.deepEqual(connectBehind.text.match(/HTTP\/1\.1 \d{3}/g), ["HTTP/1.1 200", "HTTP/1.1 400"], "the answer first, then CONNECT refused: " + connectBehind.text.slice(0, 400));
  const connectBehindClose = await sendRaw(edge.httpPort, rawRequest("GET /app/closing HTTP/1.1", [`Host: ${NAME}`, "Connection: close"]) + rawRequest("CONNECT other.test:80 HTTP/1.1", [`Host: ${NAME}`]));
  assert.deepEqual(connectBehindClose.text.match(/HTTP\/1\.1 \d{3}/g), ["HTTP/1.1 200"], "nothing after the connection's last response");
  assert.equal(edge.logs.filter((l) => l.level === 50).length, errorsBefore, "no request failed");
});

test("CONNECT over HTTP/2 is refused with 400, never a 200 that reads as an open tunnel", async () => {
  const client = http2.connect(`https://127.0.0.1:${edge.httpsPort}`, { servername: NAME, ca: pki.ca });
  try {
    const stream = client.request({ ":method": "CONNECT", ":authority": `${NAME}:443` });
    const status = await new Promise<number>((resolve, reject) => {
      stream.on("response", (headers) => resolve(Number(headers[":status"])));
      stream.on("error", reject);
    });
    stream.close();
    assert.equal(status, 400);
  } finally {
    client.close();
  }
});

test("with one certificate for every site's names SNI has nothing to choose; a site without one, or a second certificate, brings the choice back", async () => {
  const first = makeTestPki(["first.test"]);
  const second = makeTestPki(["second.test"]);
  const www = path.join(work.dir, "www");
  const running = await startPadlock({ sites: [{ hosts: ["first.test"], static: www }] });
  const subjectOf = (servername: string) =>
    new Promise<string>((resolve, reject) => {
      const socket = tls.connect({ host: "127.0.0.1", port: running.httpsPort, servername, rejectUnauthorized: false }, () => {
        resolve(String(socket.getPeerCertificate().subject.CN));
        socket.end();
      });
      socket.once("error", reject);
    });
  try {
    running.padlock.certificates.install(first.key, first.cert, ["first.test"], first.notAfter);
    assert.equal(await subjectOf("first.test"), "first.test");
    assert.equal(await subjectOf("unknown.test"), "first.test", "a name no site has: the only certificate");
    await running.padlock.reload({ sites: [{ hosts: ["first.test"], static: www }, { hosts: ["second.test"], static: www }] });
    assert.equal(await subjectOf("second.test"), "first.test", "a site without a certificate yet: the default one");
    assert.ok(running.messages().some((m) => m.startsWith("TLS handshake for second.test: no certificate yet")), "and the log says why");
    running.padlock.certificates.install(second.key, second.cert, ["second.test"], second.notAfter);
    assert.equal(await subjectOf("second.test"), "second.test", "its own once installed");
    assert.equal(await subjectOf("first.test"), "first.test");
  } finally {
    await running.close();
  }
});

test("the default certificate skips a default site without TLS and sites whose certificate is not installed, also after a reload", async () => {
  const only = makeTestPki(["second.test"]);
  const www = path.join(work.dir, "www");
  const config: Config = {
    sites: [
      { hosts: ["catchall.test"], static: www, default: true, tls: { enabled: false } },
      { hosts: ["first.test"], static: www },
      { hosts: ["second.test"], static: www },
    ],
  };
  const running = await startPadlock(config);
  try {
    running.padlock.certificates.install(only.key, only.cert, ["second.test"], only.notAfter);
    const subject = () =>
      new Promise<string>((resolve, reject) => {
        const socket = tls.connect({ host: "127.0.0.1", port: running.httpsPort, rejectUnauthorized: false }, () => {
          resolve(String(socket.getPeerCertificate().subject.CN));
          socket.end();
        });
        socket.once("error", reject);
      });
    assert.equal(await subject(), "second.test", "the first site with TLS and a certificate");
    await running.padlock.reload({ sites: [{ hosts: ["new.test"], static: www }, ...config.sites] });
    assert.equal(await subject(), "second.test", "a reload putting an uncertified site first changes nothing");
  } finally {
    await running.close();
  }
});
