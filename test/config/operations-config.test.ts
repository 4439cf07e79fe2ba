// metrics:, admin: and alerts: in the config: loopback unless said otherwise, clear errors.
import test from "node:test";
import assert from "node:assert/strict";
import { parseConfig } from "../../src/config/load.js";
import { ConfigError } from "../../src/config/problems.js";

const SITE = "sites:\n  - hosts: [blog.example.com]\n    redirect: https://example.org\n";

function problemsOf(yaml: string): string[] {
  try {
    parseConfig(yaml + SITE, "padlock.yaml");
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
    return err.message.split("\n");
  }
  return [];
}

test("metrics listen on loopback; another address only with allow_remote", () => {
  assert.deepEqual(problemsOf("metrics: { listen: 127.0.0.1:9190 }\n"), []);
  assert.deepEqual(problemsOf('metrics: { listen: "[::1]:9190" }\n'), []);
  assert.deepEqual(problemsOf("metrics: { listen: 0.0.0.0:9190 }\n"), [
    `padlock.yaml:1: metrics.listen: "0.0.0.0:9190" is reachable from other machines; use 127.0.0.1:PORT, or add allow_remote: true if a firewall or the scraper's network protects it (the metrics name every site)`,
  ]);
  assert.deepEqual(problemsOf("metrics: { listen: 0.0.0.0:9190, allow_remote: true }\n"), []);
  assert.match(problemsOf("metrics: { listen: prometheus }\n")[0]!, /metrics\.listen: "prometheus" is not HOST:PORT \(e\.g\. 127\.0\.0\.1:9190\)/);
});

test("the admin endpoint is loopback only; alerts need an http(s) webhook", () => {
  assert.deepEqual(problemsOf("admin: { listen: 127.0.0.1:9191 }\n"), []);
  assert.match(problemsOf("admin: { listen: 192.0.2.1:9191, socket: /run/padlock.sock }\n").join("\n"), /admin\.listen: "192\.0\.2\.1:9191" is reachable from other machines; use 127\.0\.0\.1:PORT \(the admin endpoint renews and revokes certificates: loopback only\)[\s\S]*give either socket: or listen:, not both/);
  assert.match(problemsOf("alerts: { webhook: hooks.example.com/padlock }\n")[0]!, /alerts\.webhook/);
});
