// The seed's nginx config, run twice in front of the same stand-in for the seed's Flask app: by
// Debian's nginx (the fixture with test ports and certificates) and by padlock from what
// `padlock import nginx` made of it. Every request reaches the same app route with the same
// path, host and client address, and gets the same answer.
import test, { after, before } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { packageRoot } from "../../src/paths.js";
import { parseConfig } from "../../src/config/load.js";
import { curl, httpArgs, httpsArgs } from "../support/clients.js";
import { freePort, tempDir } from "../support/env.js";
import { Nginx } from "../support/nginx.js";
import { startPadlock, type RunningPadlock } from "../support/padlock-in-process.js";
import { runPadlock } from "../support/padlock-process.js";
import { makeTestPki, type TestPki } from "../support/tls.js";

const NAME = "seed.example.com";
const FIXTURE = path.join(packageRoot, "test", "import", "fixtures", "nginx", "seed.conf");
let pki: TestPki;
let app: http.Server;
let appUrl: string;
let nginx: Nginx;
let nginxPorts: { http: number; https: number };
let padlock: RunningPadlock;

/**
 * Answers as the seed's app does behind ProxyFix(x_for=1): the client from the last
 * X-Forwarded-For value, scheme and host as the request came (x_proto and x_host are 0), and
 * Flask's redirect from /dp_sim to /dp_sim/.
 */
function seedApp(req: http.IncomingMessage, res: http.ServerResponse): void {
  const forwardedFor = String(req.headers["x-forwarded-for"] ?? "").split(",").map((v) => v.trim()).filter(Boolean);
  let bytes = 0;
  req.on("data", (chunk: Buffer) => (bytes += chunk.length));
  req.on("end", () => {
    if (req.url === "/dp_sim") {
      res.writeHead(308, { location: `http://${req.headers.host}/dp_sim/` });
      return void res.end();
    }
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ method: req.method, path: req.url, host: req.headers.host, remote_addr: forwardedFor.at(-1) ?? req.socket.remoteAddress, bytes }));
  });
}

before(async () => {
  pki = makeTestPki([NAME]);
  app = http.createServer(seedApp);
  await new Promise<void>((resolve) => app.listen(0, "127.0.0.1", resolve));
  appUrl = `http://127.0.0.1:${(app.address() as AddressInfo).port}`;

  // nginx: the fixture itself, with this test's ports, certificate and app address. certbot's
  // TLS options file and DH parameters are not on this machine; nginx's defaults stand in.
  nginxPorts = { http: await freePort(), https: await freePort() };
  const conf = readFileSync(FIXTURE, "utf8")
    .replace("listen 80;", `listen 127.0.0.1:${nginxPorts.http};`)
    .replace("listen 443 ssl;", `listen 127.0.0.1:${nginxPorts.https} ssl;`)
    .replace("server web:5001;", `server ${appUrl.slice("http://".length)};`)
    .replace(/ssl_certificate \S+;/, `ssl_certificate ${pki.certFile};`)
    .replace(/ssl_certificate_key \S+;/, `ssl_certificate_key ${pki.keyFile};`)
    .replace(/\n\s*(include \/etc\/letsencrypt\/options-ssl-nginx.conf|ssl_dhparam \S+);/g, "");
  nginx = await Nginx.start(nginxPorts.http, () => conf);

  // padlock: what the import made of the unchanged fixture; `web` (the app's compose service
  // name) is the stand-in's address here, and the test certificate stands in for the CA's.
  const work = tempDir("seed-import");
  const imported = await runPadlock(["import", "nginx", FIXTURE], { cwd: work.dir });
  work.remove();
  assert.equal(imported.code, 0, imported.stderr);
  const config = parseConfig(imported.stdout.replace("http://web:5001", appUrl), "padlock.yaml");
  delete config.ca;
  delete config.accept_terms;
  padlock = await startPadlock(config, { pki });
});
after(async () => {
  await Promise.all([nginx?.close(), padlock?.close()]);
  app.closeAllConnections();
  await new Promise((resolve) => app.close(resolve));
});

/** What a client sees, with each server's own port numbers written as PORT. */
async function answer(args: string[], ports: number[]) {
  const res = await curl(args);
  const normalise = (s: string | undefined) => ports.reduce((text, p) => text?.replaceAll(`:${p}`, ":PORT"), s);
  return { status: res.status, location: normalise(res.headers.location), body: normalise(res.body) };
}

const REQUESTS: [string, string[]][] = [
  ["GET /", []],
  ["GET /dp_sim/", []],
  ["GET /dp_sim/?n=3&mode=fast", []],
  ["GET /dp_sim (the app's own redirect)", []],
  ["GET /static/css/main.css", []],
  ["GET /posts/making_of_7", []],
  ["POST /dp_sim/run", ["--data-binary", "x".repeat(5000)]],
];

for (const [label, extra] of REQUESTS) {
  test(`HTTPS ${label}: the same app route and the same answer through padlock as through nginx`, async () => {
    const target = label.split(" ")[1]!;
    const method = label.split(" ")[0]!;
    const args = (pkiArgs: string[]) => ["-X", method, ...extra, ...pkiArgs];
    const viaNginx = await answer(args(httpsArgs(pki, NAME, nginxPorts.https, target)), [nginxPorts.https]);
    const viaPadlock = await answer(args(httpsArgs(pki, NAME, padlock.httpsPort, target)), [padlock.httpsPort]);
    assert.deepEqual(viaPadlock, viaNginx);
    if (target === "/dp_sim") assert.deepEqual([viaNginx.status, viaNginx.location], [308, `http://${NAME}:PORT/dp_sim/`]);
    else if (viaNginx.status === 200) {
      assert.deepEqual(JSON.parse(viaNginx.body!), { method, path: target, host: `${NAME}:PORT`, remote_addr: "127.0.0.1", bytes: method === "POST" ? 5000 : 0 });
    }
  });
}

test("plain HTTP goes to the same HTTPS URL from both (nginx with 301, padlock with 308)", async () => {
  const viaNginx = await answer(httpArgs(NAME, nginxPorts.http, "/dp_sim/?n=3"), [nginxPorts.https]);
  const viaPadlock = await answer(httpArgs(NAME, padlock.httpPort, "/dp_sim/?n=3"), [padlock.httpsPort]);
  assert.deepEqual([viaNginx.status, viaNginx.location], [301, `https://${NAME}/dp_sim/?n=3`]);
  assert.deepEqual([viaPadlock.status, viaPadlock.location], [308, `https://${NAME}:PORT/dp_sim/?n=3`]);
});
