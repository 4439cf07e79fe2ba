// What the canary reports for each kind of wrong answer on the challenge port, from real
// servers holding it: a redirect, a 200 with the wrong body, and a server that never answers.
import test from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import net from "node:net";
import type { AddressInfo } from "node:net";
import { runCanary } from "../../src/doctor/checks/canary.js";
import { portState } from "../../src/doctor/checks/ports.js";

async function canaryAgainst(server: net.Server, timeoutMs = 5000) {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  try {
    const state = await portState(port, "127.0.0.1", undefined, timeoutMs);
    assert.equal(state.kind, "held");
    const [result] = await runCanary({
      names: [{ name: "blog.test", resolved: { addresses: ["127.0.0.1"] } }],
      port,
      listen: "127.0.0.1",
      portState: state,
      localAddresses: ["127.0.0.1"],
      timeoutMs,
    });
    return { result: result!, port };
  } finally {
    server.close();
    if (server instanceof http.Server) server.closeAllConnections();
  }
}

test("a redirect on the challenge path is reported with its target", async () => {
  const server = http.createServer((req, res) => res.writeHead(301, { location: `https://blog.test${req.url}`, server: "Apache" }).end());
  const { result, port } = await canaryAgainst(server);
  assert.equal(result.status, "fail");
  assert.match(
    result.found,
    new RegExp(`from 127\\.0\\.0\\.1:${port}: 301 redirect to https://blog\\.test/\\.well-known/acme-challenge/\\S+ with Server: Apache: padlock never redirects challenge requests`),
  );
  assert.match(result.fix, /remove the redirect for \/\.well-known\/acme-challenge\//);
});

test("a 200 with the wrong body quotes what came back", async () => {
  const server = http.createServer((_req, res) => res.writeHead(200, { server: "gunicorn" }).end("<!doctype html>\n<title>My blog</title>"));
  const { result } = await canaryAgainst(server);
  assert.equal(result.status, "fail");
  assert.match(result.found, /200 but the body is not the token \(it starts "<!doctype html> <title>My blog<\/title>"\), with Server: gunicorn; port \d+ at 127\.0\.0\.1 is not padlock/);
});

test("a server that accepts but never answers is a timeout", async () => {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => sockets.add(socket));
  server.on("close", () => sockets.forEach((s) => s.destroy()));
  const { result } = await canaryAgainst(server, 300);
  for (const s of sockets) s.destroy();
  assert.equal(result.status, "fail");
  assert.match(result.found, /: no answer within 0\.3 s/);
});
