// Edge rules around every site: HTTP → HTTPS (308, or 301 when configured) except the ACME
// path and sites that serve plain HTTP; www/apex canonical hosts; unknown hosts; HSTS and
// per-site headers. Certificates are installed straight into the cache, as the manager would.
import test, { after, before } from "node:test";
import assert from "node:assert/strict";
import { curl, httpArgs, httpsArgs } from "../support/clients.js";
import { startPadlock, type RunningPadlock } from "../support/padlock-in-process.js";
import { makeTestPki, type TestPki } from "../support/tls.js";
import { startEchoUpstream, type TestUpstream } from "../support/upstreams.js";

let pki: TestPki;
let upstream: TestUpstream;
let edge: RunningPadlock;
let edge301: RunningPadlock;
const NAMES = ["example.test", "www.example.test", "apex.test", "www.apex.test", "nocert.test", "plain.test"];

before(async () => {
  pki = makeTestPki(NAMES);
  upstream = await startEchoUpstream();
  const config = {
    sites: [
      { hosts: ["example.test", "www.example.test"], proxy: upstream.url, canonical: "www" as const, headers: { "X-Frame-Options": "DENY", "Content-Security-Policy": "default-src 'self'" } },
      { hosts: ["apex.test", "www.apex.test"], proxy: upstream.url, canonical: "apex" as const, hsts: { max_age: 600, include_subdomains: true, preload: true } },
      { hosts: ["nocert.test"], proxy: upstream.url },
      { hosts: ["plain.test"], proxy: upstream.url, http: "serve" as const, hsts: false },
    ],
  };
  const installed = ["example.test", "www.example.test", "apex.test", "www.apex.test", "plain.test"];
  edge = await startPadlock(config, { pki, certNames: installed });
  edge301 = await startPadlock({ ...config, redirect_status: 301, unknown_host: 404 }, { pki, certNames: installed });
  edge.padlock.challenges.publish("tok-123", "tok-123.keyauth");
});
after(async () => {
  await Promise.all([edge.close(), edge301.close()]);
  await upstream.close();
});

test("plain HTTP is redirected with 308 to https://host/path?query, in one hop to the canonical host", async () => {
  const res = await curl(httpArgs("www.example.test", edge.httpPort, "/a/b?c=d&e"));
  assert.equal(res.status, 308);
  assert.equal(res.headers.location, `https://www.example.test:${edge.httpsPort}/a/b?c=d&e`);
  const apex = await curl(httpArgs("example.test", edge.httpPort, "/x"));
  assert.equal(apex.headers.location, `https://www.example.test:${edge.httpsPort}/x`);
  assert.equal(res.headers["strict-transport-security"], undefined, "no HSTS over plain HTTP");
});

test("redirect_status: 301 is honoured", async () => {
  const res = await curl(httpArgs("www.example.test", edge301.httpPort, "/p"));
  assert.equal(res.status, 301);
  assert.equal(res.headers.location, `https://www.example.test:${edge301.httpsPort}/p`);
});

test("the ACME challenge path is answered over HTTP, never redirected, for the sites' hosts only", async () => {
  for (const host of ["www.example.test", "nocert.test"]) {
    const res = await curl(httpArgs(host, edge.httpPort, "/.well-known/acme-challenge/tok-123"));
    assert.equal(res.status, 200);
    assert.equal(res.body, "tok-123.keyauth");
    assert.equal(res.headers["content-type"], "text/plain");
  }
  const unknown = await curl(httpArgs("www.example.test", edge.httpPort, "/.well-known/acme-challenge/nope"));
  assert.equal(unknown.status, 404);
  const otherHost = await curl(httpArgs("unknown.test", edge.httpPort, "/.well-known/acme-challenge/tok-123"));
  assert.equal(otherHost.status, 404, "a host no site serves gets no ACME answer");
  assert.doesNotMatch(otherHost.body, /keyauth/);
});

test("a site without a certificate yet is served over HTTP, not redirected", async () => {
  const res = await curl(httpArgs("nocert.test", edge.httpPort, "/"));
  assert.equal(res.status, 200);
});

test("http: serve keeps a site on plain HTTP even with a certificate", async () => {
  const res = await curl(httpArgs("plain.test", edge.httpPort, "/"));
  assert.equal(res.status, 200);
  const https = await curl(httpsArgs(pki, "plain.test", edge.httpsPort, "/"));
  assert.equal(https.headers["strict-transport-security"], undefined, "hsts: false");
});

test("canonical www and apex redirect over HTTPS, keeping path and query", async () => {
  const toWww = await curl(httpsArgs(pki, "example.test", edge.httpsPort, "/p?q=1"));
  assert.equal(toWww.status, 308);
  assert.equal(toWww.headers.location, `https://www.example.test:${edge.httpsPort}/p?q=1`);
  const toApex = await curl(httpsArgs(pki, "www.apex.test", edge.httpsPort, "/p"));
  assert.equal(toApex.headers.location, `https://apex.test:${edge.httpsPort}/p`);
  const served = await curl(httpsArgs(pki, "apex.test", edge.httpsPort, "/p"));
  assert.equal(served.status, 200);
});

test("HSTS on HTTPS responses: one year by default, options when configured", async () => {
  const res = await curl(["--http2", ...httpsArgs(pki, "www.example.test", edge.httpsPort, "/")]);
  assert.equal(res.status, 200);
  assert.equal(res.headers["strict-transport-security"], "max-age=31536000");
  const apex = await curl(httpsArgs(pki, "apex.test", edge.httpsPort, "/"));
  assert.equal(apex.headers["strict-transport-security"], "max-age=600; includeSubDomains; preload");
});

test("per-site headers are added over both protocols; no Server header", async () => {
  for (const flag of ["--http1.1", "--http2"]) {
    const res = await curl([flag, ...httpsArgs(pki, "www.example.test", edge.httpsPort, "/")]);
    assert.equal(res.headers["x-frame-options"], "DENY");
    assert.equal(res.headers["content-security-policy"], "default-src 'self'");
    assert.equal(res.headers.server, undefined);
  }
});

test("the site's headers and HSTS replace the application's fields of the same name, in any case", async () => {
  for (const flag of ["--http1.1", "--http2"]) {
    const res = await curl([flag, ...httpsArgs(pki, "www.example.test", edge.httpsPort, "/own-headers")]);
    assert.equal(res.status, 200);
    assert.equal(res.headers["x-frame-options"], "DENY", `${flag}: the config's value, once`);
    assert.equal(res.headers["strict-transport-security"], "max-age=31536000", `${flag}: padlock's HSTS, once`);
    assert.equal(res.headers["x-app"], "kept");
  }
  const plain = await curl(httpArgs("plain.test", edge.httpPort, "/own-headers"));
  assert.equal(plain.headers["strict-transport-security"], "max-age=1", "hsts: false leaves the application's own");
});

test("an unknown host gets 404 over HTTP and 421 over HTTPS (404 when configured), never another site's content", async () => {
  const res = await curl(httpArgs("other.test", edge.httpPort, "/"));
  assert.equal(res.status, 404);
  assert.doesNotMatch(res.body, /upstream/);
  const h2 = await curl(["--http2", "-H", "Host: other.test", ...httpsArgs(pki, "www.example.test", edge.httpsPort, "/")]);
  assert.equal(h2.status, 421, "an HTTP/2 request for a host the connection's site does not serve");
  assert.doesNotMatch(h2.body, /upstream/);
  const configured = await curl(["-H", "Host: other.test", ...httpsArgs(pki, "www.example.test", edge301.httpsPort, "/")]);
  assert.equal(configured.status, 404);
});
