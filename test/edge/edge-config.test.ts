// Edge settings in padlock.yaml: clear errors for bad values, and the access log formats.
import test from "node:test";
import assert from "node:assert/strict";
import http2 from "node:http2";
import { parseSize } from "../../src/config/size.js";
import { curl, httpArgs } from "../support/clients.js";
import { startPadlock } from "../support/padlock-in-process.js";
import { makeTestPki } from "../support/tls.js";
import { startEchoUpstream } from "../support/upstreams.js";
import { configProblems } from "../support/config-problems.js";

const problemsOf = configProblems;

test("bad trusted_proxies, max_body and HSTS preload settings are reported with file, line and key", () => {
  const problems = problemsOf(
    [
      "trusted_proxies: [10.0.0.0/8, 10.0.0.0/33, not-an-ip]",
      "sites:",
      "  - hosts: [a.example]",
      "    proxy: http://127.0.0.1:5000",
      "    max_body: ten megs",
      "    hsts: { preload: true }",
      "    routes:",
      "      - { path: /x/, proxy: http://127.0.0.1:5001, max_body: 5 parsecs }",
    ].join("\n"),
  );
  assert.deepEqual(problems, [
    'padlock.yaml:1: trusted_proxies[1]: "10.0.0.0/33" is not an IP address or CIDR; write e.g. 10.0.0.0/8, 192.168.1.5 or 2001:db8::/32',
    'padlock.yaml:1: trusted_proxies[2]: "not-an-ip" is not an IP address or CIDR; write e.g. 10.0.0.0/8, 192.168.1.5 or 2001:db8::/32',
    'padlock.yaml:5: sites[0].max_body: "ten megs" is not a size; write a number of bytes or a number with a unit, e.g. 10mb, 512kb, 1gb',
    "padlock.yaml:6: sites[0].hsts.preload: the HSTS preload list needs include_subdomains: true and max_age of at least 31536000 (one year)",
    'padlock.yaml:8: sites[0].routes[0].max_body: "5 parsecs" is not a size; write a number of bytes or a number with a unit, e.g. 10mb, 512kb, 1gb',
  ]);
});

test("sizes: bytes or binary units", () => {
  assert.equal(parseSize("10mb"), 10 * 1024 * 1024);
  assert.equal(parseSize("512 KiB"), 512 * 1024);
  assert.equal(parseSize(4096), 4096);
  assert.equal(parseSize("1.5g"), 1.5 * 1024 ** 3);
  assert.equal(parseSize("-1"), undefined);
});

test("log.access: common writes the common log format; off writes nothing", async () => {
  const upstream = await startEchoUpstream();
  const common = await startPadlock({ log: { access: "common" }, sites: [{ hosts: ["c.test"], proxy: upstream.url }] });
  const off = await startPadlock({ log: { access: "off" }, sites: [{ hosts: ["c.test"], proxy: upstream.url }] });
  try {
    await curl(httpArgs("c.test", common.httpPort, "/p?q=1"));
    await curl(httpArgs("c.test", off.httpPort, "/p?q=1"));
    assert.equal(common.access.length, 1);
    assert.match(common.access[0]!, /^127\.0\.0\.1 - - \[\d{2}\/[A-Z][a-z]{2}\/\d{4}:\d{2}:\d{2}:\d{2} \+0000\] "GET \/p\?q=1 HTTP\/1\.1" 200 \d+\n$/);
    assert.deepEqual(off.access, []);
  } finally {
    await Promise.all([common.close(), off.close()]);
    await upstream.close();
  }
});

test("HTTP/2: max streams advertised; an idle session gets GOAWAY, a slow request outlives idle_timeout", async () => {
  const pki = makeTestPki(["h2.test"]);
  const upstream = await startEchoUpstream();
  const edge = await startPadlock({ limits: { h2_max_streams: 7, idle_timeout: 1 }, sites: [{ hosts: ["h2.test"], proxy: upstream.url }] }, { pki });
  const session = http2.connect(`https://127.0.0.1:${edge.httpsPort}`, { ca: pki.ca, servername: "h2.test" });
  try {
    const settings = await new Promise<http2.Settings>((resolve, reject) => {
      session.once("remoteSettings", resolve);
      session.once("error", reject);
    });
    assert.equal(settings.maxConcurrentStreams, 7);
    const goaway = new Promise<void>((resolve) => session.once("goaway", () => resolve()));
    // Longer than idle_timeout without a byte on the connection: the stream must still finish.
    const stream = session.request({ ":path": "/slow?ms=2500", host: "h2.test" });
    const status = new Promise<number>((resolve) => stream.once("response", (headers) => resolve(Number(headers[":status"]))));
    stream.resume();
    assert.equal(await status, 200);
    await goaway;
  } finally {
    session.close();
    await edge.close();
    await upstream.close();
  }
});

test("HTTPS HTTP/1.1: a request slower than idle_timeout still gets its answer", async () => {
  const pki = makeTestPki(["h1.test"]);
  const upstream = await startEchoUpstream();
  const edge = await startPadlock({ limits: { idle_timeout: 1 }, sites: [{ hosts: ["h1.test"], proxy: upstream.url }] }, { pki });
  try {
    const res = await curl(["--http1.1", "--cacert", pki.caFile, "--resolve", `h1.test:${edge.httpsPort}:127.0.0.1`, `https://h1.test:${edge.httpsPort}/slow?ms=2500`]);
    assert.equal(res.status, 200);
  } finally {
    await edge.close();
    await upstream.close();
  }
});
