// What goes wrong in real life, made to happen for real: the CA down at start, a name's DNS
// pointing elsewhere, another server answering the challenge, the CA rejecting nonces. padlock
// keeps serving HTTP, says what failed in plain words, and retries with growing delays.
import test from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import https from "node:https";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import acme from "acme-client";
import { freePort, tempDir, waitFor } from "../support/env.js";
import { makeApiCertificate, startPebble, type Pebble } from "../support/pebble.js";
import { startFrontedPebble } from "../support/ari-front.js";
import { curlHttpsStatus, httpsGet } from "../support/clients.js";
import { loadConfigIn, startPadlock, type RunningPadlock } from "../support/padlock-in-process.js";

const NAMES = ["blog.test", "www.blog.test"];
const FAST_RETRY = { retry: { baseMs: 100, maxMs: 1500 } };

function config(directoryUrl: string, apiRootFile: string) {
  return { ca: directoryUrl, ca_root: apiRootFile, accept_terms: true, storage: "data", sites: [{ hosts: NAMES, redirect: "https://elsewhere.test" }] };
}

function httpGet(port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    http.get({ host: "127.0.0.1", port, path: "/", headers: { host } }, (res) => (res.resume(), resolve(res.statusCode ?? 0))).on("error", reject);
  });
}

/**
 * Pebble may hand a new order the authorizations the account already holds as valid, and then
 * nothing is validated. Deactivated (RFC 8555 §7.5.2), they make the next order prove the names.
 */
async function deactivateAuthorizations(pebble: Pebble, storage: string): Promise<void> {
  acme.axios.defaults.httpsAgent = new https.Agent({ ca: pebble.apiRootPem });
  const [caId] = readdirSync(path.join(storage, "accounts"));
  const account = path.join(storage, "accounts", caId!);
  const client = new acme.Client({
    directoryUrl: pebble.directoryUrl,
    accountKey: readFileSync(path.join(account, "account.key")),
    accountUrl: (JSON.parse(readFileSync(path.join(account, "account.json"), "utf8")) as { url: string }).url,
  });
  const certificates = path.join(storage, "certificates", caId!);
  const [folder] = readdirSync(certificates);
  const { orderUrl } = JSON.parse(readFileSync(path.join(certificates, folder!, "meta.json"), "utf8")) as { orderUrl: string };
  const order = await client.getOrder({ url: orderUrl } as acme.Order);
  for (const authz of await client.getAuthorizations(order)) await client.deactivateAuthorization(authz);
}

function failures(p: RunningPadlock) {
  return p.logs.filter((l) => /getting a certificate failed/.test(l.msg));
}

test("CA unreachable at start: HTTP serves, HTTPS refuses cleanly, retries back off, then the certificate arrives", async (t) => {
  const httpPort = await freePort();
  const caPort = await freePort();
  const work = tempDir("unreachable");
  t.after(() => work.remove());
  const directoryUrl = `https://127.0.0.1:${caPort}/dir`;
  const api = makeApiCertificate(work.dir);

  const p = await startPadlock(loadConfigIn(work.dir, config(directoryUrl, api.caFile)), { baseDir: work.dir, httpPort, tuning: FAST_RETRY });
  t.after(() => p.close());
  assert.equal(await httpGet(p.httpPort, "blog.test"), 308, "HTTP serves the site while there is no certificate");
  const handshake = await curlHttpsStatus("blog.test", p.httpsPort, api.caFile);
  assert.notEqual(handshake.code, 0, "no HTTPS (and no self-signed placeholder) before the certificate");
  assert.match(handshake.stderr, /SSL|TLS|alert/i);
  await waitFor("three failed attempts", () => failures(p).length >= 3);
  const [first, second, third] = failures(p);
  assert.match(first!.msg, /blog\.test, www\.blog\.test: getting a certificate failed \(attempt 1\): cannot reach the CA at https:\/\/127\.0\.0\.1:\d+: connection refused/);
  assert.match(first!.msg, /HTTPS for these names waits, HTTP keeps serving; next attempt in/);
  assert.ok((second!.retryInMs as number) > (first!.retryInMs as number) && (third!.retryInMs as number) > (second!.retryInMs as number), "delays grow");
  // The handshake's log line says what is true at that moment: issuing, or waiting after a failure.
  const after = await curlHttpsStatus("blog.test", p.httpsPort, api.caFile);
  assert.notEqual(after.code, 0);
  assert.ok(
    p.messages().some((m) => /^TLS handshake for blog\.test: no certificate yet: the last attempt failed \(.*cannot reach the CA.*\); next attempt at \d{4}-/.test(m)),
    p.messages().filter((m) => m.startsWith("TLS handshake")).join("\n"),
  );

  // The CA comes up (same port, and the root padlock was told to trust): the next retry succeeds.
  const pebble = await startPebble({ httpPort, listenPort: caPort, api });
  t.after(() => pebble.stop());
  const serial = await waitFor("the certificate", () => p.padlock.certificateManager!.status()[0]!.serial, 30_000);
  const answer = await httpsGet("www.blog.test", p.httpsPort, await pebble.issuingRoot());
  assert.equal(answer.serial, serial);
});

test("a name whose DNS points elsewhere: the failure names it, the challenge and the CA's detail; fixed DNS then succeeds", async (t) => {
  const httpPort = await freePort();
  const pebble = await startPebble({ httpPort });
  t.after(() => pebble.stop());
  await pebble.dns.addA("www.blog.test", ["127.0.0.2"]);
  const work = tempDir("dns-elsewhere");
  t.after(() => work.remove());
  const p = await startPadlock(loadConfigIn(work.dir, config(pebble.directoryUrl, pebble.apiRootFile)), { baseDir: work.dir, httpPort, tuning: FAST_RETRY });
  t.after(() => p.close());

  const failure = await waitFor("a failed attempt", () => failures(p)[0], 30_000);
  assert.match(failure.msg, /validating www\.blog\.test with http-01: .*\(ACME connection\)\. The CA said: ".*127\.0\.0\.2.*Fix: /);
  assert.equal(failure.problem, "urn:ietf:params:acme:error:connection");
  assert.equal(await httpGet(p.httpPort, "www.blog.test"), 308, "HTTP keeps serving");

  await pebble.dns.clearA("www.blog.test");
  const status = await waitFor("the certificate after DNS is fixed", () => {
    const s = p.padlock.certificateManager!.status()[0]!;
    return s.serial !== undefined && s.failures === 0 && s;
  }, 30_000);
  assert.equal(status.lastError, undefined);
});

test("another server answering the challenge wrongly: incorrect response explained", async (t) => {
  const httpPort = await freePort();
  const pebble = await startPebble({ httpPort });
  t.after(() => pebble.stop());
  // Another web server owns blog.test's address on the challenge port, as in the seed's story.
  const impostor = http.createServer((_req, res) => res.writeHead(404, { server: "nginx" }).end("not found"));
  await new Promise<void>((resolve) => impostor.listen(httpPort, "127.0.0.3", resolve));
  t.after(() => new Promise<void>((resolve) => impostor.close(() => resolve())));
  await pebble.dns.addA("blog.test", ["127.0.0.3"]);
  const work = tempDir("wrong-answer");
  t.after(() => work.remove());
  // padlock asks the CA's DNS, so its own look at the challenge URL reaches the same server.
  const settings = { ...config(pebble.directoryUrl, pebble.apiRootFile), resolver: pebble.dns.address };
  const p = await startPadlock(loadConfigIn(work.dir, settings), { baseDir: work.dir, httpPort, tuning: FAST_RETRY });
  t.after(() => p.close());

  const failure = await waitFor("a failed attempt", () => failures(p)[0], 30_000);
  assert.match(failure.msg, /validating blog\.test with http-01: .*\(ACME unauthorized\)\. The CA said: ".*404/);
  // The same words as padlock doctor: what answered instead of padlock, and where.
  assert.match(failure.msg, /127\.0\.0\.3/);
  assert.match(failure.msg, /Server: nginx/);
  assert.match(failure.msg, /HTTPS for these names waits, HTTP keeps serving/);
  assert.equal(p.padlock.certificateManager!.status()[0]!.serial, undefined);
  await waitFor("a second attempt", () => failures(p).length >= 2, 30_000);
});

test("the CA rejects half of all nonces: badNonce is retried without the user noticing", async (t) => {
  const httpPort = await freePort();
  const pebble = await startPebble({ httpPort, nonceReject: 50 });
  t.after(() => pebble.stop());
  const work = tempDir("nonces");
  t.after(() => work.remove());
  const p = await startPadlock(loadConfigIn(work.dir, config(pebble.directoryUrl, pebble.apiRootFile)), { baseDir: work.dir, httpPort, tuning: FAST_RETRY });
  t.after(() => p.close());
  const serial = await waitFor("the certificate", () => p.padlock.certificateManager!.status()[0]!.serial, 30_000);
  assert.deepEqual(failures(p), [], "no failure reported");
  assert.equal((await httpsGet("blog.test", p.httpsPort, await pebble.issuingRoot())).serial, serial);
});

test("rate limited: the CA's Retry-After is honoured, not the (shorter) backoff", async (t) => {
  const { httpPort, pebble, front } = await startFrontedPebble(t, { ari: false, rateLimitOrders: { count: 1, retryAfterSeconds: 2 } });
  const work = tempDir("rate-limited");
  t.after(() => work.remove());
  const p = await startPadlock(loadConfigIn(work.dir, config(front.directoryUrl, pebble.apiRootFile)), { baseDir: work.dir, httpPort, tuning: FAST_RETRY });
  t.after(() => p.close());
  const failure = await waitFor("the rate-limited attempt", () => failures(p)[0], 30_000);
  assert.match(failure.msg, /The CA's rate limit was reached .*\(ACME rateLimited\)\. The CA said: "too many new orders recently \(test\)"\. Fix: .*staging\)\. HTTPS for these names waits/);
  assert.match(failure.msg, /\(rate limited: waiting as the CA asks\)/);
  await waitFor("the certificate", () => p.padlock.certificateManager!.status()[0]!.serial, 30_000);
  const orderPosts = front.requests.filter((r) => r.method === "POST" && r.path === "/order-plz");
  assert.equal(orderPosts.length, 2);
  assert.ok(orderPosts[1]!.at - orderPosts[0]!.at >= 1900, "the second order came after Retry-After");
});

test("a failed renewal keeps the current certificate in service and says so", async (t) => {
  const httpPort = await freePort();
  const pebble = await startPebble({ httpPort });
  t.after(() => pebble.stop());
  const work = tempDir("renewal-fails");
  t.after(() => work.remove());
  const p = await startPadlock(loadConfigIn(work.dir, config(pebble.directoryUrl, pebble.apiRootFile)), { baseDir: work.dir, httpPort, tuning: FAST_RETRY });
  t.after(() => p.close());
  const manager = p.padlock.certificateManager!;
  const serial = await waitFor("the certificate in storage", () => !manager.status()[0]!.unsaved && manager.status()[0]!.serial, 30_000);
  await pebble.dns.addA("blog.test", ["127.0.0.2"]);
  await deactivateAuthorizations(pebble, path.join(work.dir, "data"));
  await assert.rejects(manager.renew(["blog.test"], { force: true }), /validating blog\.test with http-01/, p.messages().join("\n"));
  const failure = failures(p)[0]!;
  assert.match(failure.msg, /keeping the current certificate \(valid until \d{4}-/);
  assert.equal(manager.status()[0]!.serial, serial);
  assert.ok(manager.status()[0]!.nextRetry, "a retry is scheduled");
  assert.equal((await httpsGet("blog.test", p.httpsPort, await pebble.issuingRoot())).serial, serial, "still served");
});
