// The forwarding-header matrix through padlock to a real upstream that echoes what it got:
// a direct client, a client behind a trusted proxy, and an untrusted peer forging headers;
// over HTTP/1.1 and HTTP/2. Loopback has many addresses: curl --interface picks the peer.
import test, { after, before } from "node:test";
import assert from "node:assert/strict";
import { setForwardingHeaders } from "../../src/proxy/forwarding.js";
import { parseForwarded, resolveClient, TrustedProxies } from "../../src/server/client-address.js";
import { exampleBlogDir } from "../../src/paths.js";
import { curl, httpArgs, httpsArgs } from "../support/clients.js";
import { startPadlock, type RunningPadlock } from "../support/padlock-in-process.js";
import { makeTestPki, type TestPki } from "../support/tls.js";
import { startEchoUpstream, type Echo, type TestUpstream } from "../support/upstreams.js";

const NAME = "app.test";
const TRUSTED_PROXY = "127.0.0.2";
const UNTRUSTED_PEER = "127.0.0.3";
let pki: TestPki;
let upstream: TestUpstream;
let edge: RunningPadlock;

before(async () => {
  pki = makeTestPki([NAME]);
  upstream = await startEchoUpstream();
  edge = await startPadlock({ trusted_proxies: [`${TRUSTED_PROXY}/32`], sites: [{ hosts: [NAME], proxy: upstream.url }] }, { pki });
});
after(async () => {
  await edge.close();
  await upstream.close();
});

async function echoVia(extra: string[]): Promise<Echo> {
  const res = await curl([...extra, ...httpsArgs(pki, NAME, edge.httpsPort, "/who?x=1")]);
  assert.equal(res.status, 200, res.body);
  return JSON.parse(res.body) as Echo;
}

for (const [label, flag] of [["HTTP/1.1", "--http1.1"], ["HTTP/2", "--http2"]] as const) {
  test(`${label}: a direct client is reported as itself`, async () => {
    const echo = await echoVia([flag]);
    assert.equal(echo.headers["x-forwarded-for"], "127.0.0.1");
    assert.equal(echo.headers["x-real-ip"], "127.0.0.1");
    assert.equal(echo.headers["x-forwarded-proto"], "https");
    assert.equal(echo.headers["x-forwarded-host"], `${NAME}:${edge.httpsPort}`);
    assert.equal(echo.headers.forwarded, `for=127.0.0.1;host="${NAME}:${edge.httpsPort}";proto=https`);
    assert.equal(echo.headers.host, `${NAME}:${edge.httpsPort}`, "Host is preserved by default");
    assert.equal(echo.url, "/who?x=1");
    assert.equal(echo.httpVersion, "1.1", "HTTP/2 clients reach the upstream over HTTP/1.1");
    assert.ok(!Object.keys(echo.headers).some((h) => h.startsWith(":")), "no pseudo-headers upstream");
  });

  test(`${label}: behind a trusted proxy, its X-Forwarded-* are believed`, async () => {
    const echo = await echoVia([flag, "--interface", TRUSTED_PROXY, "-H", "X-Forwarded-For: 198.51.100.1, 203.0.113.7", "-H", "X-Forwarded-Proto: https", "-H", "X-Forwarded-Host: www.app.test"]);
    assert.equal(echo.headers["x-forwarded-for"], "198.51.100.1, 203.0.113.7", "the chain ends with the client");
    assert.equal(echo.headers["x-real-ip"], "203.0.113.7");
    assert.equal(echo.headers["x-forwarded-host"], "www.app.test");
    assert.equal(echo.headers.forwarded, "for=198.51.100.1, for=203.0.113.7;host=www.app.test;proto=https");
  });

  test(`${label}: an untrusted peer forging X-Forwarded-For and Forwarded is replaced`, async () => {
    const echo = await echoVia([flag, "--interface", UNTRUSTED_PEER, "-H", "X-Forwarded-For: 6.6.6.6", "-H", "Forwarded: for=6.6.6.6", "-H", "X-Real-IP: 6.6.6.6", "-H", "X-Forwarded-Proto: http"]);
    assert.equal(echo.headers["x-forwarded-for"], UNTRUSTED_PEER);
    assert.equal(echo.headers["x-real-ip"], UNTRUSTED_PEER);
    assert.equal(echo.headers["x-forwarded-proto"], "https");
    assert.equal(echo.headers.forwarded, `for=${UNTRUSTED_PEER};host="${NAME}:${edge.httpsPort}";proto=https`);
  });
}

test("the access log names the client padlock determined, in JSON", async () => {
  await echoVia(["--http2", "--interface", TRUSTED_PROXY, "-H", "X-Forwarded-For: 203.0.113.9"]);
  await echoVia(["--http1.1", "--interface", UNTRUSTED_PEER, "-H", "X-Forwarded-For: 6.6.6.9"]);
  const entries = edge.access.map((l) => JSON.parse(l) as Record<string, unknown>);
  const h2 = entries.find((e) => e.client === "203.0.113.9");
  assert.ok(h2, "trusted proxy's client is logged");
  assert.equal(h2.protocol, "HTTP/2");
  assert.equal(h2.tls, "TLSv1.3");
  assert.equal(h2.method, "GET");
  assert.equal(h2.path, "/who?x=1");
  assert.equal(h2.status, 200);
  assert.equal(h2.host, NAME);
  assert.ok((h2.bytes as number) > 100);
  assert.equal(typeof h2.duration_ms, "number");
  assert.ok(entries.some((e) => e.client === UNTRUSTED_PEER && e.protocol === "HTTP/1.1"));
  assert.ok(!entries.some((e) => e.client === "6.6.6.9"), "forged addresses never reach the log");
});

test("IPv6 addresses are quoted and bracketed in Forwarded", () => {
  const headers: Record<string, string> = {};
  const client = resolveClient({ "x-forwarded-for": "2001:db8::7" }, "::1", true, "example.com", new TrustedProxies(["::1"]));
  assert.equal(client.ip, "2001:db8::7");
  setForwardingHeaders(headers, client);
  assert.equal(headers.forwarded, 'for="[2001:db8::7]";host=example.com;proto=https');
  assert.equal(headers["x-forwarded-for"], "2001:db8::7");
});

test("trusted hops at the end of the chain are skipped to find the client", () => {
  const trusted = new TrustedProxies(["10.0.0.0/8"]);
  const client = resolveClient({ "x-forwarded-for": "6.6.6.6, 203.0.113.5, 10.1.1.1" }, "::ffff:10.0.0.1", false, "h", trusted);
  assert.equal(client.ip, "203.0.113.5");
  assert.deepEqual(client.chain, ["6.6.6.6", "203.0.113.5"]);
  const viaForwarded = resolveClient({ forwarded: 'for="[2001:db8::1]:4711";proto=https;host=a.example, for=10.2.2.2' }, "10.0.0.1", false, "h", trusted);
  assert.equal(viaForwarded.ip, "2001:db8::1");
  assert.deepEqual(parseForwarded('for=1.2.3.4;proto="https", for="_hidden"'), [{ for: "1.2.3.4", proto: "https" }, { for: "_hidden" }]);
});

test("behind a trusted proxy that terminated TLS, plain HTTP is served, not redirected in a loop", async () => {
  const viaProxy = await curl(["--interface", TRUSTED_PROXY, "-H", "X-Forwarded-Proto: https", "-H", "X-Forwarded-For: 203.0.113.8", ...httpArgs(NAME, edge.httpPort, "/p")]);
  assert.equal(viaProxy.status, 200);
  assert.equal((JSON.parse(viaProxy.body) as Echo).headers["x-forwarded-proto"], "https");
  const forged = await curl(["--interface", UNTRUSTED_PEER, "-H", "X-Forwarded-Proto: https", ...httpArgs(NAME, edge.httpPort, "/p")]);
  assert.equal(forged.status, 308, "an untrusted peer cannot claim https");
});

test("behind a trusted proxy that ended TLS, the blog's feed links to the address the reader used", async () => {
  const blog = await startPadlock(
    { trusted_proxies: ["127.0.0.1/32"], sites: [{ hosts: ["blog.test"], blog: exampleBlogDir, http: "serve" }] },
    { httpsPort: false },
  );
  try {
    const res = await curl([
      ...httpArgs("blog.test", blog.httpPort!, "/feed.xml"),
      ...["-H", "X-Forwarded-Proto: https", "-H", "X-Forwarded-Host: blog.example", "-H", "X-Forwarded-For: 203.0.113.9"],
    ]);
    assert.equal(res.status, 200);
    assert.match(res.body, /<id>https:\/\/blog\.example\/posts\/figures-and-captions\/<\/id>/);
  } finally {
    await blog.close();
  }
});
