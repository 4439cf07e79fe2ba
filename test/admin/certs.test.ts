// `padlock certs` against a real padlock process and Pebble: list (JSON and table), renew --force
// and revoke through the admin socket, the metrics endpoint, then list and forget from storage
// once padlock has stopped.
import test from "node:test";
import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { request } from "undici";
import { freePort, tempDir, waitFor } from "../support/env.js";
import { startPebble } from "../support/pebble.js";
import { runPadlock, spawnPadlock, writeConfig } from "../support/padlock-process.js";
import { httpsGet } from "../support/clients.js";

const NAMES = ["blog.test", "www.blog.test"];
const DAY_MS = 86_400_000;

interface ListedCertificate {
  names: string[];
  folder: string;
  environment: string;
  serial: string;
  notBefore: string;
  notAfter: string;
  daysLeft: number;
  nextRenewal?: string;
  failures: number;
  lastError?: string;
  source: string;
}

interface Listing {
  running: boolean;
  certificates: ListedCertificate[];
}

test("padlock certs: list, renew --force, revoke through the admin socket; metrics; list and forget offline", async (t) => {
  const httpPort = await freePort();
  const httpsPort = await freePort();
  const metricsPort = await freePort();
  const pebble = await startPebble({ httpPort });
  t.after(() => pebble.stop());
  const work = tempDir("certs");
  t.after(() => work.remove());
  const configFile = path.join(work.dir, "padlock.yaml");
  const storage = path.join(work.dir, "data");
  const config = {
    ca: pebble.directoryUrl,
    ca_root: pebble.apiRootFile,
    accept_terms: true,
    storage: "data",
    metrics: { listen: `127.0.0.1:${metricsPort}` },
    sites: [{ hosts: NAMES, redirect: "https://elsewhere.test" }],
  };
  const padlock = spawnPadlock(["serve", "--config", writeConfig(configFile, config), "--log-format", "json", "--http-port", String(httpPort), "--https-port", String(httpsPort), "--listen", "127.0.0.1"]);
  t.after(() => padlock.stop());
  const certs = async (...args: string[]) => runPadlock(["certs", ...args, "--config", configFile], { env: { COLUMNS: "220" } });
  const listJson = async (): Promise<Listing> => {
    const run = await certs("list", "--json");
    assert.equal(run.code, 0, run.stderr);
    return JSON.parse(run.stdout) as Listing;
  };
  const storedLeaf = () => {
    const caFolder = path.join(storage, "certificates", readdirSync(path.join(storage, "certificates"))[0]!);
    return new X509Certificate(readFileSync(path.join(caFolder, readdirSync(caFolder)[0]!, "cert.pem")));
  };

  const socket = path.join(storage, "admin.sock");
  // padlock says it serves once its admin socket is open and made private (mode set after bind).
  await padlock.serving();
  assert.equal(statSync(socket).mode & 0o777, 0o600, "admin socket is private to the serving user");
  assert.equal(statSync(socket).uid, process.getuid!());
  await waitFor("the certificate in storage", () => existsSync(path.join(storage, "certificates")) && readdirSync(path.join(storage, "certificates")).length > 0, 30_000);
  const caFolder = path.join(storage, "certificates", readdirSync(path.join(storage, "certificates"))[0]!);
  await waitFor("the certificate's files", () => readdirSync(caFolder).some((set) => existsSync(path.join(caFolder, set, "status.json"))), 30_000);
  const first = (await listJson()).certificates[0]!;
  const root = await pebble.issuingRoot();

  // list --json: the data of the certificate padlock serves.
  const served = await httpsGet("blog.test", httpsPort, root);
  const leaf = storedLeaf();
  assert.equal(first.serial, served.serial);
  assert.equal(first.serial, leaf.serialNumber);
  assert.deepEqual(first.names, NAMES);
  assert.equal(first.environment, new URL(pebble.directoryUrl).host, "a CA padlock does not know is shown by its host");
  assert.equal(Date.parse(first.notAfter), Date.parse(leaf.validTo));
  assert.equal(Date.parse(first.notBefore), Date.parse(leaf.validFrom));
  const days = Math.floor((Date.parse(leaf.validTo) - Date.now()) / DAY_MS);
  assert.ok(first.daysLeft === days || first.daysLeft === days + 1, `daysLeft ${first.daysLeft}, expected ${days}`);
  const life = Date.parse(leaf.validTo) - Date.parse(leaf.validFrom);
  const renewAt = Date.parse(first.nextRenewal!);
  assert.ok(renewAt <= Date.parse(leaf.validFrom) + (life * 2) / 3 && renewAt >= Date.parse(leaf.validFrom) + life * (2 / 3 - 1 / 30), `next renewal ${first.nextRenewal} at 2/3 of the lifetime`);
  assert.equal(first.failures, 0);
  assert.equal(first.source, "running");

  // The table: the same facts for people.
  const table = await certs("list");
  assert.equal(table.code, 0, table.stderr);
  const [header, rule, row] = table.stdout.split("\n");
  assert.match(header!, /^NAMES\s+ISSUER\s+NOT AFTER\s+DAYS LEFT\s+NEXT RENEWAL\s+LAST ERROR$/);
  assert.match(rule!, /^-+  -+/);
  const cells = row!.split(/ {2,}/);
  assert.deepEqual(cells, [
    "blog.test, www.blog.test",
    new URL(pebble.directoryUrl).host,
    first.notAfter.replace("T", " ").replace(/:\d\d(\.\d+)?Z$/, "Z"),
    String(first.daysLeft),
    first.nextRenewal!.replace("T", " ").replace(/:\d\d(\.\d+)?Z$/, "Z"),
    "-",
  ]);

  const shown = await certs("show", "www.blog.test");
  assert.equal(shown.code, 0, shown.stderr);
  assert.match(shown.stdout, /^names: +blog\.test, www\.blog\.test$/m);
  assert.match(shown.stdout, new RegExp(`^serial: +${first.serial}$`, "m"));
  assert.match(shown.stdout, /^next renewal: .* \(expiring: at 2\/3 of the lifetime\)$/m);
  assert.match(shown.stdout, /^state from: +the running padlock$/m);

  // renew --force through the socket: a new certificate, served by the next handshake.
  const renewed = await certs("renew", "blog.test", "--force", "--json");
  assert.equal(renewed.code, 0, renewed.stderr);
  const renewAnswer = JSON.parse(renewed.stdout) as { message: string; certificate: ListedCertificate };
  assert.match(renewAnswer.message, /^blog\.test, www\.blog\.test: renewed, new certificate [0-9A-F]+ valid until/);
  const second = renewAnswer.certificate;
  assert.notEqual(second.serial, first.serial);
  assert.equal((await httpsGet("www.blog.test", httpsPort, root)).serial, second.serial);
  // A forced renewal says so: in its log lines and in `certs show`.
  const logged = (serial: string) => padlock.logLines().map((l) => String(l.msg)).filter((m) => m.includes(serial) || /ordering a certificate/.test(m));
  assert.ok(padlock.logLines().some((l) => /^blog\.test, www\.blog\.test: ordering a certificate from .* \(renewal reason: forced\)$/.test(String(l.msg)) && l.reason === "forced"), logged(second.serial).join("\n"));
  assert.ok(padlock.logLines().some((l) => new RegExp(`installed certificate ${second.serial} \\(issued in [\\d.]+ s; renewal reason: forced\\)`).test(String(l.msg))), logged(second.serial).join("\n"));
  assert.match((await certs("show", "blog.test")).stdout, /^last order: +\d{4}-\d\d-\d\d \d\d:\d\dZ: renewal, reason forced, issued$/m);

  // revoke: Pebble marks it revoked, and padlock obtains and serves a new one.
  const badReason = await certs("revoke", "blog.test", "--reason", "boredom");
  assert.equal(badReason.code, 2);
  assert.match(badReason.stderr, /unknown revocation reason "boredom"; use one of unspecified, keyCompromise, .*superseded/);
  const revoked = await certs("revoke", "www.blog.test", "--reason", "superseded", "--json");
  assert.equal(revoked.code, 0, revoked.stderr);
  const revokeAnswer = JSON.parse(revoked.stdout) as { message: string; certificate: ListedCertificate };
  assert.match(revokeAnswer.message, new RegExp(`revoked ${second.serial} \\(superseded\\); new certificate [0-9A-F]+`));
  const status = await pebble.certificateStatus(second.serial);
  assert.match(String(status.Status), /revoked/i, JSON.stringify(status));
  const third = revokeAnswer.certificate;
  assert.equal((await listJson()).certificates[0]!.serial, third.serial);
  assert.notEqual(third.serial, second.serial);
  assert.equal((await httpsGet("blog.test", httpsPort, root)).serial, third.serial);
  assert.match(String((await pebble.certificateStatus(third.serial)).Status), /valid/i);
  assert.match((await certs("show", "blog.test")).stdout, /^last order: +.*: renewal, reason revoked, issued$/m);

  // Metrics: scraped and parsed; not-after is the served certificate's.
  const scrape = await request(`http://127.0.0.1:${metricsPort}/metrics`);
  assert.equal(scrape.statusCode, 200);
  assert.match(String(scrape.headers["content-type"]), /^text\/plain; version=0\.0\.4/);
  const samples = parseExposition(await scrape.body.text());
  const setLabel = `names="${NAMES.join(",")}"`;
  assert.equal(samples.get(`padlock_certificate_not_after_seconds{${setLabel}}`), Date.parse(third.notAfter) / 1000);
  assert.equal(samples.get(`padlock_renewal_consecutive_failures{${setLabel}}`), 0);
  assert.ok(samples.get(`padlock_certificate_next_renewal_seconds{${setLabel}}`)! > Date.now() / 1000);
  assert.ok(samples.get(`padlock_acme_requests_total{outcome="ok"}`)! >= 3 * 5, "three orders' worth of successful CA requests");
  for (const reason of ["new", "forced", "revoked"]) assert.equal(samples.get(`padlock_certificate_orders_total{${setLabel},reason="${reason}",outcome="issued"}`), 1, `one ${reason} order`);
  // Three HTTPS requests above, each answered by the site's redirect.
  assert.equal(samples.get(`padlock_http_requests_total{site="blog.test",status_class="3xx"}`), 3);
  assert.equal(samples.get(`padlock_http_request_duration_seconds_count{site="blog.test"}`), 3);
  assert.equal(samples.get(`padlock_http_request_duration_seconds_bucket{site="blog.test",le="+Inf"}`), 3);

  // Stopped: list reads storage, renew says it needs the running padlock, forget works.
  await padlock.stop();
  assert.equal(existsSync(socket), false, "the socket is removed on a clean stop");
  const offline = await listJson();
  assert.equal(offline.running, false);
  assert.equal(offline.certificates[0]!.serial, third.serial);
  assert.equal(offline.certificates[0]!.nextRenewal !== undefined, true, "the renewal plan is kept in storage");
  assert.equal(offline.certificates[0]!.source, "storage");
  const offlineTable = await certs("list");
  assert.match(offlineTable.stderr, /padlock is not running: showing what storage holds/);
  assert.match(offlineTable.stdout, /blog\.test, www\.blog\.test/);
  const offlineRenew = await certs("renew", "blog.test");
  assert.equal(offlineRenew.code, 1);
  assert.match(offlineRenew.stderr, /padlock is not running .* renew needs the running padlock .* `padlock serve -c /);

  const unknown = await certs("forget", "nope.test");
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /no stored certificate for nope\.test; stored: blog\.test, www\.blog\.test/);
  const setFolder = path.join(caFolder, readdirSync(caFolder)[0]!);
  const forgotten = await certs("forget", "blog.test");
  assert.equal(forgotten.code, 0, forgotten.stderr);
  assert.equal(forgotten.stdout, `blog.test, www.blog.test: removed meta.json, cert.pem, key.pem, status.json from ${setFolder}; the CA account is kept. padlock orders a new one when it next starts\n`);
  assert.equal(existsSync(setFolder), false, "the emptied folder is gone");
  assert.deepEqual((await listJson()).certificates, []);
  const accounts = path.join(storage, "accounts");
  const accountFolder = path.join(accounts, readdirSync(accounts)[0]!);
  assert.ok(existsSync(path.join(accountFolder, "account.key")), "the account key stays");
});

/** Prometheus text format → "name{labels}" → value; fails on any line that is not a sample or comment. */
function parseExposition(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("# HELP ") || line.startsWith("# TYPE ")) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{[^}]*\})?) (\S+)$/.exec(line);
    assert.ok(m, `not a Prometheus sample: ${line}`);
    samples.set(m[1]!, Number(m[2]));
  }
  return samples;
}
