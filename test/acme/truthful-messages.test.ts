// Messages that tell the truth about what happened and what to do, each made to happen for real
// against Pebble: the failure probe looks where the CA fetched (not at padlock's own port); a
// reload that fixes ca_root takes effect without a restart; keys a reload cannot apply are named.
import test from "node:test";
import assert from "node:assert/strict";
import { freePort, tempDir, waitFor } from "../support/env.js";
import { startPebble } from "../support/pebble.js";
import { Nginx } from "../support/nginx.js";
import { httpsGet } from "../support/clients.js";
import { loadConfigIn, startPadlock } from "../support/padlock-in-process.js";
import { makeTestPki } from "../support/tls.js";
import { runPadlock } from "../support/padlock-process.js";
import path from "node:path";

const FAST_RETRY = { retry: { baseMs: 100, maxMs: 1500 } };
const site = { hosts: ["blog.test"], redirect: "https://elsewhere.test", tls: { challenges: ["http-01"] } };

test("a failed HTTP-01 validation is looked at where the CA fetched it: nothing listening there, or another program by name and pid", async (t) => {
  const caPort = await freePort(); // where Pebble validates: not padlock's port
  const pebble = await startPebble({ httpPort: caPort });
  t.after(() => pebble.stop());
  const work = tempDir("probe");
  t.after(() => work.remove());
  // padlock resolves names the way the CA does (its DNS answers 127.0.0.1 for every name).
  const config = loadConfigIn(work.dir, { ca: pebble.directoryUrl, ca_root: pebble.apiRootFile, accept_terms: true, storage: "data", resolver: pebble.dns.address, sites: [site] });
  const p = await startPadlock(config, { baseDir: work.dir, tuning: FAST_RETRY });
  t.after(() => p.close());
  const failure = (n: number) => p.logs.filter((l) => /getting a certificate failed/.test(l.msg))[n];

  const first = await waitFor("the failed validation", () => failure(0), 30_000);
  const caUrl = `http://blog.test:${caPort}/.well-known/acme-challenge/`;
  assert.match(first.msg, new RegExp(`The CA fetched ${caUrl}[\\w-]+ from 127\\.0\\.0\\.1 and got no answer: connection refused`), first.msg);
  assert.match(first.msg, new RegExp(`padlock fetched ${caUrl}[\\w-]+ from 127\\.0\\.0\\.1 and got no answer: connection refused`));
  assert.match(first.msg, new RegExp(`padlock listens on port ${p.httpPort}, not ${caPort}: forward port ${caPort} to it, or set http_port: ${caPort}`));
  assert.doesNotMatch(first.msg, /answered by padlock/);

  // Another web server takes the CA's port: the next failure names it.
  const nginx = await Nginx.start(caPort);
  t.after(() => nginx.close());
  const before = p.logs.filter((l) => /getting a certificate failed/.test(l.msg)).length;
  const second = await waitFor("a failure while nginx holds the port", () => failure(before), 30_000);
  assert.match(second.msg, new RegExp(`port ${caPort} at that address is not padlock \\(it is nginx \\(pid ${nginx.pid}`), second.msg);
  assert.ok(!p.messages().some((m) => /unknown token/.test(m)), "padlock's own probe is not reported as an unknown token");
});

test("a reload that fixes ca_root takes effect at once; keys a reload cannot apply are named", async (t) => {
  const httpPort = await freePort();
  const pebble = await startPebble({ httpPort });
  t.after(() => pebble.stop());
  const work = tempDir("reload-ca-root");
  t.after(() => work.remove());
  const wrongRoot = makeTestPki(["unrelated.test"]).caFile;
  const configOf = (caRoot: string, extra: Record<string, unknown> = {}) =>
    loadConfigIn(work.dir, { ca: pebble.directoryUrl, ca_root: caRoot, accept_terms: true, storage: "data", sites: [site], ...extra });
  const p = await startPadlock(configOf(wrongRoot), { baseDir: work.dir, httpPort, tuning: FAST_RETRY });
  t.after(() => p.close());
  await waitFor("a failure: the CA's certificate is not trusted", () => p.logs.find((l) => /getting a certificate failed/.test(l.msg)), 30_000);
  const renew = await runPadlock(["certs", "renew", "blog.test", "--config", path.join(work.dir, "padlock.yaml")]);
  assert.equal(renew.code, 1);
  assert.match(renew.stderr, /^padlock: .*ca_root/s, "the error names ca_root");
  assert.ok(renew.stderr.endsWith("\n"), `the error ends with a newline: ${JSON.stringify(renew.stderr.slice(-80))}`);

  await p.padlock.reload(configOf(pebble.apiRootFile, { http_port: 8081 }));
  assert.ok(p.messages().includes(`config reload: "http_port" changed; it takes effect after a restart (until then padlock keeps the previous value)`), p.messages().join("\n"));
  assert.ok(p.messages().some((m) => m.startsWith(`config reload: "ca_root" changed; certificate management restarts with the new settings`)), p.messages().join("\n"));
  const serial = await waitFor("the certificate, without a restart", () => p.padlock.certificateManager!.status()[0]!.serial, 30_000);
  assert.equal((await httpsGet("blog.test", p.httpsPort, await pebble.issuingRoot())).serial, serial);
});
