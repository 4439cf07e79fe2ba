// The seed's layout end to end: one site answering two names (where the blog will be) with
// /dp_sim/ proxied to a stand-in for the Flask app, and admin.<name> proxied to a stand-in for the
// analytics service. The Flask stand-in applies Werkzeug ProxyFix(x_for=1, x_proto=1, x_host=1)
// semantics, so the test shows what the app sees: the real client, https, the public host — and
// a trailing-slash redirect that stays on https (the seed's nginx downgraded it to http).
import test, { after, before } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { curl, httpArgs, httpsArgs } from "../support/clients.js";
import { startPadlock, type RunningPadlock } from "../support/padlock-in-process.js";
import { makeTestPki, type TestPki } from "../support/tls.js";
import { startEchoUpstream, type Echo, type TestUpstream } from "../support/upstreams.js";

const NAMES = ["seed.test", "www.seed.test"];
const ADMIN = "admin.seed.test";
let pki: TestPki;
let flask: http.Server;
let analytics: TestUpstream;
let edge: RunningPadlock;

/** The value `trusted` hops from the end of a comma list, as ProxyFix picks it. */
function proxyFixValue(header: string | string[] | undefined, trusted = 1): string | undefined {
  const values = String(header ?? "").split(",").map((v) => v.trim()).filter(Boolean);
  return values.length >= trusted ? values[values.length - trusted] : undefined;
}

before(async () => {
  pki = makeTestPki([...NAMES, ADMIN]);
  flask = http.createServer((req, res) => {
    const scheme = proxyFixValue(req.headers["x-forwarded-proto"]) ?? "http";
    const host = proxyFixValue(req.headers["x-forwarded-host"]) ?? req.headers.host;
    const remoteAddr = proxyFixValue(req.headers["x-forwarded-for"]) ?? req.socket.remoteAddress;
    if (req.url === "/dp_sim") {
      // Flask's strict-slashes redirect, built from the request's scheme and host.
      res.writeHead(308, { location: `${scheme}://${host}/dp_sim/` });
      return void res.end();
    }
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ remote_addr: remoteAddr, scheme, host, path: req.url }));
  });
  await new Promise<void>((resolve) => flask.listen(0, "127.0.0.1", resolve));
  analytics = await startEchoUpstream("analytics");
  const flaskUrl = `http://127.0.0.1:${(flask.address() as AddressInfo).port}`;
  edge = await startPadlock(
    {
      sites: [
        { hosts: NAMES, routes: [{ path: "/dp_sim/", name: "dp_sim", proxy: flaskUrl }] },
        { hosts: [ADMIN], proxy: analytics.url },
      ],
    },
    { pki },
  );
});
after(async () => {
  await edge.close();
  await analytics.close();
  flask.closeAllConnections();
  await new Promise((resolve) => flask.close(resolve));
});

for (const name of NAMES) {
  test(`${name}: /dp_sim/ reaches the app, which sees the client, https and the public host`, async () => {
    for (const flag of ["--http1.1", "--http2"]) {
      const res = await curl([flag, ...httpsArgs(pki, name, edge.httpsPort, "/dp_sim/?n=3")]);
      assert.equal(res.status, 200, res.body);
      assert.deepEqual(JSON.parse(res.body), { remote_addr: "127.0.0.1", scheme: "https", host: `${name}:${edge.httpsPort}`, path: "/dp_sim/?n=3" });
      assert.equal(res.headers["strict-transport-security"], "max-age=31536000");
    }
  });

  test(`${name}: the app's own redirect stays on https`, async () => {
    const res = await curl(httpsArgs(pki, name, edge.httpsPort, "/dp_sim"));
    assert.equal(res.status, 308);
    assert.equal(res.headers.location, `https://${name}:${edge.httpsPort}/dp_sim/`);
  });

  test(`${name}: plain HTTP goes to HTTPS`, async () => {
    const res = await curl(httpArgs(name, edge.httpPort, "/dp_sim/"));
    assert.equal(res.status, 308);
    assert.equal(res.headers.location, `https://${name}:${edge.httpsPort}/dp_sim/`);
  });
}

test(`${ADMIN} is proxied to the analytics service with forwarding headers`, async () => {
  const res = await curl(["--http2", ...httpsArgs(pki, ADMIN, edge.httpsPort, "/api/stats")]);
  assert.equal(res.status, 200);
  const echo = JSON.parse(res.body) as Echo;
  assert.equal(echo.upstream, "analytics");
  assert.equal(echo.url, "/api/stats");
  assert.equal(echo.headers.host, `${ADMIN}:${edge.httpsPort}`);
  assert.equal(echo.headers["x-forwarded-for"], "127.0.0.1");
  assert.equal(echo.headers["x-forwarded-proto"], "https");
});

test("the blog's names do not leak into the admin site or the other way round", async () => {
  const res = await curl(httpsArgs(pki, "seed.test", edge.httpsPort, "/api/stats"));
  assert.equal(res.status, 404);
  const admin = await curl(httpsArgs(pki, ADMIN, edge.httpsPort, "/dp_sim/"));
  assert.equal((JSON.parse(admin.body) as Echo).upstream, "analytics");
});
