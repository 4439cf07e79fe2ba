// DNS-01 through padlock's certificate manager: Pebble asks a real Knot server (its DNS
// resolver) for the TXT records padlock publishes. Knot serves a zone only it knows (a private
// zone) on a high port, so padlock's propagation check passes only through the config: its
// `resolver:` (which finds the zone's name servers) or the site's `tls.dns.nameservers`. A site
// with example.test and *.example.test gets one certificate, served over verified HTTPS, and no
// TXT record is left behind; the exec hook's relative path starts at the config file's folder.
import test, { after, before } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { CertificateTuning } from "../../src/certificates/start-certificates.js";
import { freePort, tempDir, waitFor } from "../support/env.js";
import { startKnot, type KnotServer } from "../support/knot.js";
import { startPebble, type Pebble } from "../support/pebble.js";
import { curlHttpsStatus, httpsGet } from "../support/clients.js";
import { loadConfigIn, startPadlock, type RunningPadlock } from "../support/padlock-in-process.js";

let knot: KnotServer;
let pebble: Omit<Pebble, "dns">;

before(async () => {
  knot = await startKnot();
  pebble = await startPebble({ dnsServer: knot.address });
});

after(async () => {
  await pebble?.stop();
  await knot?.stop();
});

const HOSTS = ["example.test", "*.example.test"];

function rfc2136Settings() {
  const key = knot.keys["hmac-sha256"];
  return { provider: "rfc2136", server: knot.address, tsig_name: key.name, tsig_algorithm: key.algorithm, tsig_secret: key.secret.toString("base64") };
}

/** padlock with one DNS-01 site for example.test and *.example.test, its config written in `dir`. */
async function startSite(dir: string, dns: Record<string, unknown>, extra: Record<string, unknown> = {}, tuning: CertificateTuning = {}): Promise<RunningPadlock> {
  const config = {
    ca: pebble.directoryUrl,
    ca_root: pebble.apiRootFile,
    accept_terms: true,
    storage: "data",
    ...extra,
    sites: [{ hosts: HOSTS, redirect: "https://elsewhere.test", tls: { challenges: ["dns-01"], dns } }],
  };
  return startPadlock(loadConfigIn(dir, config), { baseDir: dir, httpPort: 0, tuning: { ...tuning, dns01: { pollIntervalMs: 50, ...tuning.dns01 } } });
}

const certificate = (p: RunningPadlock) => waitFor("the certificate", () => p.padlock.certificateManager!.status()[0]!.serial, 60_000);

/** The first certificate failure the manager logged. */
const failure = (p: RunningPadlock) => waitFor("a failed attempt", () => p.messages().find((m) => /getting a certificate failed/.test(m)), 30_000);

test("RFC 2136 to Knot, the authoritative servers named in tls.dns.nameservers: example.test and *.example.test over verified HTTPS; no TXT record is left", async (t) => {
  const work = tempDir("dns01-issuer");
  t.after(() => work.remove());
  const p = await startSite(work.dir, { ...rfc2136Settings(), nameservers: [knot.address] });
  t.after(() => p.close());
  const serial = await certificate(p);

  const root = await pebble.issuingRoot();
  const rootFile = path.join(work.dir, "pebble-root.pem");
  writeFileSync(rootFile, root);
  for (const name of ["example.test", "www.example.test", "anything.example.test"]) {
    const result = await curlHttpsStatus(name, p.httpsPort, rootFile);
    assert.equal(result.code, 0, `curl https://${name}/ failed: ${result.stderr}`);
    assert.equal(result.status, "308");
  }
  const answer = await httpsGet("www.example.test", p.httpsPort, root);
  assert.equal(answer.serial, serial);
  assert.equal(answer.names.split(", ").sort().join(", "), "DNS:*.example.test, DNS:example.test");

  const messages = p.messages();
  for (const expected of [/validating example\.test \(dns-01\)/, /validating \*\.example\.test \(dns-01\)/, /installed certificate/]) {
    assert.ok(messages.some((m) => expected.test(m)), `a log line matching ${expected} in:\n${messages.join("\n")}`);
  }
  assert.deepEqual(await knot.txt("_acme-challenge.example.test"), [], "no TXT record left behind");
});

test("the propagation check finds the zone's name servers through the config's resolver: (a zone the system resolver does not know)", async (t) => {
  const work = tempDir("dns01-resolver");
  t.after(() => work.remove());
  const hook = await knot.writeUpdateHook(work.dir);
  // The zone's NS, ns1.example.test, is 127.0.0.1 in Knot's zone; Knot answers on its own port.
  const p = await startSite(work.dir, { provider: "exec", command: hook }, { resolver: knot.address }, { dns01: { nameserverPort: knot.port } });
  t.after(() => p.close());
  await certificate(p);
  assert.deepEqual(await knot.txt("_acme-challenge.example.test"), []);
});

test("every propagation failure names the resolver it asked", async (t) => {
  const work = tempDir("dns01-resolver-named");
  t.after(() => work.remove());
  const silent = `127.0.0.1:${await freePort({ udp: true })}`;
  const configured = await startSite(work.dir, rfc2136Settings(), { resolver: silent });
  t.after(() => configured.close());
  assert.match(await failure(configured), new RegExp(`cannot find the name servers of zone example\\.test through resolver ${silent.replace(/\./g, "\\.")} \\(NS lookup: \\w+\\); set resolver: .* or list the zone's authoritative servers \\(host:port\\) in sites\\[0\\]\\.tls\\.dns\\.nameservers`));

  const other = tempDir("dns01-system-named");
  t.after(() => other.remove());
  const system = await startSite(other.dir, rfc2136Settings());
  t.after(() => system.close());
  assert.match(await failure(system), /cannot find the name servers of zone example\.test through the system resolver \([^)]+\) \(NS lookup: \w+\)/);
});

test("a relative hook command starts at the config file's folder, like every other path", async (t) => {
  const work = tempDir("dns01-relative-hook");
  t.after(() => work.remove());
  mkdirSync(path.join(work.dir, "hooks"));
  await knot.writeUpdateHook(path.join(work.dir, "hooks"));
  assert.notEqual(process.cwd(), work.dir);
  const p = await startSite(work.dir, { provider: "exec", command: "hooks/knot-update-hook.sh", nameservers: [knot.address] });
  t.after(() => p.close());
  await certificate(p);
  assert.deepEqual(await knot.txt("_acme-challenge.example.test"), []);
});

test("a hung add hook is logged when its timeout strikes, before remove runs (not after remove times out too)", async (t) => {
  const work = tempDir("dns01-hung-add");
  t.after(() => work.remove());
  const removeStarted = path.join(work.dir, "remove-started");
  // add hangs; remove notes when it starts (in ms, as the log does), then hangs as well.
  const hook = path.join(work.dir, "hangs.sh");
  writeFileSync(hook, `#!/bin/sh\n[ "$1" = remove ] && echo $(($(date +%s%N) / 1000000)) > ${removeStarted}\nexec sleep 600\n`, { mode: 0o755 });
  const p = await startSite(work.dir, { provider: "exec", command: hook }, {}, { dns01: { hookTimeoutMs: 300 } });
  t.after(() => p.close());
  await failure(p);
  const addTimedOut = p.logs.find((l) => /hangs\.sh add _acme-challenge\.example\.test\. \S+" did not finish within 0\.3 s and was stopped/.test(l.msg));
  assert.ok(addTimedOut, p.messages().join("\n"));
  assert.match(addTimedOut.msg, /^example\.test, \*\.example\.test: publishing the TXT record _acme-challenge\.example\.test failed: the DNS hook \(sites\[0\]\.tls\.dns\.command\)/);
  assert.ok((addTimedOut.time as number) <= Number(readFileSync(removeStarted, "utf8")), "the add's timeout is logged before remove starts");
});
