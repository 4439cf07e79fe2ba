// Bad certificate settings are refused before anything is ordered, each with a message that
// says what is wrong and how to fix it.
import test from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import path from "node:path";
import type { AddressInfo } from "node:net";
import { parseConfig } from "../../src/config/load.js";
import { freePort, tempDir } from "../support/env.js";
import { startFrontedPebble } from "../support/ari-front.js";
import { loadConfigIn, startPadlock } from "../support/padlock-in-process.js";
import { spawnPadlock, writeConfig } from "../support/padlock-process.js";

function problemsOf(yaml: string): string {
  try {
    parseConfig(yaml, "padlock.yaml");
  } catch (err) {
    return (err as Error).message;
  }
  return "";
}

const site = (hosts: string, extra = "") => `sites:\n  - hosts: [${hosts}]\n    redirect: https://elsewhere.example\n${extra}`;

test("config checks: CA name, EAB, terms, host names, wildcards, IPs and private names", () => {
  assert.match(problemsOf(`ca: letsencrypted\naccept_terms: true\n${site("blog.example.com")}`), /padlock\.yaml:1: ca: unknown CA "letsencrypted"; expected one of letsencrypt, letsencrypt-staging, zerossl/);
  assert.match(problemsOf(`ca: constructor\naccept_terms: true\n${site("blog.example.com")}`), /padlock\.yaml:1: ca: unknown CA "constructor"/, "a name the CA table inherits is no CA");
  assert.match(problemsOf(`ca: zerossl\naccept_terms: true\n${site("blog.example.com")}`), /ca: ZeroSSL needs External Account Binding: add eab:/);
  assert.match(problemsOf(`ca: letsencrypt\n${site("blog.example.com")}`), /ca: letsencrypt requires accepting its terms of service .* add accept_terms: true/);
  assert.match(problemsOf(`ca: letsencrypt\naccept_terms: true\n${site("bad_name.example.com")}`), /sites\[0\]\.hosts\[0\]: "bad_name\.example\.com" is not a valid host name/);
  assert.match(problemsOf(`ca: letsencrypt\naccept_terms: true\n${site('"*.example.com"')}`), /"\*\.example\.com" is a wildcard, which CAs only issue through DNS-01/);
  assert.match(
    problemsOf(`ca: https://ca.example/dir\naccept_terms: true\n${site("203.0.113.7", "    tls: { challenges: [dns-01] }\n")}`),
    /"203\.0\.113\.7" is an IP address, which only http-01 or tls-alpn-01 can prove/,
  );
  for (const name of ["blog.test", "nas.local", "10.0.0.5", "intranet"]) {
    assert.match(problemsOf(`ca: letsencrypt\naccept_terms: true\n${site(name)}`), new RegExp(`"${name.replace(/\./g, "\\.")}" is not a public name, so letsencrypt will not issue a certificate for it`));
  }
  // Sites made only of loopback names get their certificate from padlock's internal CA instead.
  assert.equal(problemsOf(`ca: letsencrypt\naccept_terms: true\n${site("localhost, 127.0.0.1")}`), "");
  // The same names are fine for a private CA (Pebble, a company CA), and a public IP with http-01.
  assert.equal(problemsOf(`ca: https://ca.example/dir\naccept_terms: true\n${site("localhost, blog.test, 127.0.0.1")}`), "");
  assert.equal(problemsOf(`ca: letsencrypt\naccept_terms: true\n${site("blog.example.com, 203.0.113.7")}`), "");
});

test("a directory URL that is not ACME stops start-up before any order, without a stack trace", async (t) => {
  const notAcme = http.createServer((_req, res) => res.writeHead(200, { "content-type": "text/html" }).end("<html>welcome</html>"));
  await new Promise<void>((resolve) => notAcme.listen(0, "127.0.0.1", resolve));
  t.after(() => new Promise<void>((resolve) => notAcme.close(() => resolve())));
  const url = `http://127.0.0.1:${(notAcme.address() as AddressInfo).port}/directory`;
  const work = tempDir("not-acme");
  t.after(() => work.remove());
  const p = spawnPadlock([
    "serve", "--config", writeConfig(path.join(work.dir, "padlock.yaml"), { ca: url, accept_terms: true, storage: "data", listen: "127.0.0.1", sites: [{ hosts: ["blog.test"], redirect: "https://x.test" }] }),
    "--log-format", "json", "--http-port", String(await freePort()), "--https-port", String(await freePort()),
  ]);
  t.after(() => p.stop());
  assert.equal(await p.exited, 2);
  assert.match(p.output(), /padlock: ca: http:\/\/127\.0\.0\.1:\d+\/directory is not an ACME directory: it answered something that is not an ACME directory \(no newNonce, newAccount and newOrder URLs\)/);
  assert.doesNotMatch(p.output(), /\n\s+at /, "no stack trace");
});

test("terms not accepted: no account is created, and the message says how to accept", async (t) => {
  const { httpPort, pebble, front } = await startFrontedPebble(t, { ari: false });
  const work = tempDir("terms");
  t.after(() => work.remove());
  await assert.rejects(
    startPadlock(loadConfigIn(work.dir, { ca: front.directoryUrl, ca_root: pebble.apiRootFile, storage: "data", sites: [{ hosts: ["blog.test"], redirect: "https://x.test" }] }), { baseDir: work.dir, httpPort }),
    /the CA's terms of service \(.+\) must be accepted before padlock may create an account: read them, then add accept_terms: true/,
  );
  assert.deepEqual(front.requests.filter((r) => r.method === "POST"), [], "nothing signed was sent");
});

test("ca_root that does not exist is named", async (t) => {
  const work = tempDir("ca-root");
  t.after(() => work.remove());
  await assert.rejects(
    startPadlock(loadConfigIn(work.dir, { ca: "https://127.0.0.1:1/dir", ca_root: "missing-root.pem", accept_terms: true, storage: "data", sites: [{ hosts: ["blog.test"], redirect: "https://x.test" }] }), { baseDir: work.dir, httpPort: await freePort() }),
    new RegExp(`ca_root: cannot read ${path.join(work.dir, "missing-root.pem").replace(/[.]/g, "\\.")}: file not found`),
  );
});
