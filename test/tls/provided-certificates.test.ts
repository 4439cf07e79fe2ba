// Certificates a site brings (tls: { certificate, key }): served, listed as provided, swapped
// when the files change (never half-written), refused at start-up and reload when they do not
// make a pair, and warned about when they near expiry. padlock never orders for them.
import test from "node:test";
import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { copyFileSync, mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { httpsGet, type TlsAnswer } from "../support/clients.js";
import { captureLog, tempDir, waitFor } from "../support/env.js";
import { FakeClock } from "../support/fake-clock.js";
import { runPadlock, servePadlock, writeConfig } from "../support/padlock-process.js";
import { makeTestPki } from "../support/tls.js";
import { configProblems } from "../support/config-problems.js";
import { CertificateCache } from "../../src/tls/certificate-cache.js";
import { ProvidedCertificates, readProvidedPair } from "../../src/tls/provided-certificates.js";

const NAME = "provided.test";

function serialOf(certPem: string): string {
  return new X509Certificate(certPem).serialNumber;
}

test("a site's own certificate is served, listed as provided, and replaced while clients connect: never a half-written pair, no failed request", async (t) => {
  const work = tempDir("provided");
  t.after(() => work.remove());
  const first = makeTestPki([NAME], mkdirSync(path.join(work.dir, "pki-1"), { recursive: true })!);
  const second = makeTestPki([NAME], mkdirSync(path.join(work.dir, "pki-2"), { recursive: true })!);
  const roots = first.ca + second.ca;
  mkdirSync(path.join(work.dir, "www"));
  writeFileSync(path.join(work.dir, "www", "index.html"), "home\n");
  mkdirSync(path.join(work.dir, "certs"));
  const certFile = path.join(work.dir, "certs", "fullchain.pem");
  const keyFile = path.join(work.dir, "certs", "privkey.pem");
  copyFileSync(first.certFile, certFile);
  copyFileSync(first.keyFile, keyFile);
  const configFile = writeConfig(path.join(work.dir, "padlock.yaml"), {
    storage: path.join(work.dir, "data"),
    sites: [{ hosts: [NAME], static: "www", tls: { certificate: "certs/fullchain.pem", key: "certs/privkey.pem" } }],
  });
  const padlock = await servePadlock(["--config", configFile, "--log-level", "debug"]);
  t.after(() => padlock.stop());

  const before = await httpsGet(NAME, padlock.httpsPort, roots);
  assert.equal(before.status, 200);
  assert.equal(before.serial, (await readProvidedPair({ at: "", hosts: [NAME], certificate: first.certFile, key: first.keyFile })).serial);

  const list = await runPadlock(["certs", "list", "--config", configFile]);
  assert.equal(list.code, 0, list.stderr);
  assert.match(list.stdout, new RegExp(`${NAME.replace(".", "\\.")}\\s+provided`));
  const renew = await runPadlock(["certs", "renew", NAME, "--config", configFile]);
  assert.notEqual(renew.code, 0);
  assert.match(renew.stderr, /brings.*sites\[0\]\.tls.*fullchain\.pem.*does not renew it: replace the files/);

  // New connections one after another, for the whole swap.
  const answers: (TlsAnswer & { at: number })[] = [];
  const failures: string[] = [];
  let looping = true;
  const loop = (async () => {
    while (looping) {
      try {
        answers.push({ ...(await httpsGet(NAME, padlock.httpsPort, roots)), at: Date.now() });
      } catch (err) {
        failures.push((err as Error).message);
      }
    }
  })();
  t.after(() => (looping = false));
  await waitFor("a few requests", () => answers.length >= 5);

  // A deploy that writes the key first: padlock sees a key that is not the certificate's, and waits.
  writeFileSync(keyFile, second.key);
  await waitFor("padlock to notice the unmatched pair", () => padlock.logLines().some((l) => /do not make a pair yet.*not the key of the certificate/.test(String(l.msg))));
  const firstSerial = before.serial;
  assert.ok(answers.every((a) => a.serial === firstSerial && a.status === 200), "the old pair is served while the files disagree");

  writeFileSync(certFile, second.cert);
  const written = Date.now();
  await waitFor("the new certificate on new connections", () => answers.some((a) => a.at > written && a.serial !== firstSerial), 10_000);
  const served = answers.find((a) => a.at > written && a.serial !== firstSerial)!;
  t.diagnostic(`new certificate served ${served.at - written} ms after its file was written (the issue's figure: within 2 s)`);
  const count = answers.length;
  await waitFor("more requests after the swap", () => answers.length >= count + 5);
  looping = false;
  await loop;
  assert.deepEqual(failures, [], "no request failed during the swap");
  assert.ok(answers.length > 10);
  assert.ok(padlock.logLines().some((l) => /replaced the certificate from .*fullchain\.pem/.test(String(l.msg))));
  assert.ok(!padlock.logLines().some((l) => /ordering a certificate/.test(String(l.msg))), "nothing ordered");

  // A reload naming files that do not make a pair is refused; the pair in use stays.
  const mismatched = path.join(work.dir, "certs", "other.key");
  writeFileSync(mismatched, first.key);
  writeConfig(configFile, { storage: path.join(work.dir, "data"), sites: [{ hosts: [NAME], static: "www", tls: { certificate: "certs/fullchain.pem", key: "certs/other.key" } }] });
  padlock.child.kill("SIGHUP");
  await waitFor("the reload to be refused", () => padlock.logLines().some((l) => /config reload failed: sites\[0\]\.tls: .*other\.key is not the key of the certificate/.test(String(l.msg))));
  assert.equal((await httpsGet(NAME, padlock.httpsPort, roots)).serial, served.serial);
});

test("padlock refuses to start with a certificate whose key is another's, naming both files", async (t) => {
  const work = tempDir("provided-bad");
  t.after(() => work.remove());
  const one = makeTestPki([NAME], mkdirSync(path.join(work.dir, "one"), { recursive: true })!);
  const other = makeTestPki([NAME], mkdirSync(path.join(work.dir, "other"), { recursive: true })!);
  mkdirSync(path.join(work.dir, "www"));
  const configFile = writeConfig(path.join(work.dir, "padlock.yaml"), {
    storage: path.join(work.dir, "data"),
    sites: [{ hosts: [NAME], static: "www", tls: { certificate: one.certFile, key: other.keyFile } }],
  });
  const run = await runPadlock(["serve", "--config", configFile, "--listen", "127.0.0.1", "--http-port", "0", "--https-port", "0"]);
  assert.equal(run.code, 2);
  assert.match(run.stderr, /padlock: error code CERTIFICATE_FILES/);
  assert.match(run.stderr + run.stdout, new RegExp(`sites\\[0\\]\\.tls: ${other.keyFile.replaceAll("/", "\\/")} is not the key of the certificate in ${one.certFile.replaceAll("/", "\\/")}`));
});

test("the config names what is missing or contradicts a certificate the site brings", () => {
  const pki = makeTestPki([NAME]);
  const problems = (tls: string) => configProblems(`sites:\n  - hosts: [${NAME}]\n    redirect: https://example.com\n    tls: ${tls}\n`).join("\n");
  assert.match(problems(`{ key: ${pki.keyFile} }`), /tls\.key: a key without its certificate: add tls\.certificate/);
  assert.match(problems(`{ certificate: ${pki.certFile} }`), /tls\.certificate: a certificate without its key: add tls\.key/);
  assert.match(problems(`{ certificate: /nonexistent/cert.pem, key: ${pki.keyFile} }`), /tls\.certificate: file "\/nonexistent\/cert\.pem" does not exist/);
  assert.match(problems(`{ certificate: ${pki.certFile}, key: ${pki.keyFile}, challenges: [dns-01] }`), /tls\.challenges: this site brings its own certificate, so challenges \(padlock never orders for this site\) does not apply/);
  assert.equal(problems(`{ certificate: ${pki.certFile}, key: ${pki.keyFile} }`), "");
});

test("a pair left unmatched is said once it lasts, a host the certificate does not cover is named, and the last third of its life is warned about", async (t) => {
  const work = tempDir("provided-unit");
  t.after(() => work.remove());
  const pki = makeTestPki([NAME], mkdirSync(path.join(work.dir, "pki"), { recursive: true })!);
  const stranger = makeTestPki(["stranger.test"], mkdirSync(path.join(work.dir, "stranger"), { recursive: true })!);
  const files = { at: "sites[0].tls", hosts: [NAME, "www.provided.test"], certificate: path.join(work.dir, "cert.pem"), key: path.join(work.dir, "key.pem") };
  copyFileSync(pki.certFile, files.certificate);
  copyFileSync(pki.keyFile, files.key);
  const { log, lines } = captureLog();
  const logged = () => lines;
  const clock = new FakeClock();
  const cache = new CertificateCache();
  const expiring: string[] = [];
  const keeper = await ProvidedCertificates.start([files], { cache, log, clock, onExpiring: (hosts, problem) => expiring.push(`${hosts.join(",")}: ${problem}`) });
  t.after(() => keeper.stop());
  assert.ok(cache.lookup(NAME), "installed for the site's names");
  assert.ok(logged().some((l) => /does not cover www\.provided\.test/.test(l.msg)));

  writeFileSync(files.key, stranger.key);
  await keeper.checkAll();
  assert.ok(!logged().some((l) => l.level >= 50), "not an error while the other file may still come");
  clock.advance(10_000);
  await waitFor("the lasting mismatch to be said", () => logged().some((l) => l.level >= 50 && /no longer make a certificate padlock can serve.*still serving the previous one/.test(l.msg)));
  assert.equal(serialOf(cache.lookup(NAME)!.cert), serialOf(pki.cert), "the previous pair is still served");

  assert.deepEqual(expiring, []);
  clock.set(pki.notAfter.getTime() - 6 * 3_600_000);
  clock.advance(0);
  assert.equal(expiring.length, 1, "warned once in the last third");
  assert.match(expiring[0]!, /last third of its life/);
});
