// DNS-01 through padlock's certificate manager: Pebble asks a real Knot server (its DNS
// resolver) for the TXT records padlock publishes with TSIG-signed RFC 2136 updates. A site with
// example.test and *.example.test gets one certificate, served over verified HTTPS, and no TXT
// record is left behind.
import test, { after, before } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { AuthoritativeTxtCheck } from "../../src/acme/dns01/authoritative.js";
import { tempDir, waitFor } from "../support/env.js";
import { startKnot, type KnotServer } from "../support/knot.js";
import { startPebble, type Pebble } from "../support/pebble.js";
import { curlHttpsStatus, httpsGet } from "../support/clients.js";
import { loadConfigIn, startPadlock } from "../support/padlock-in-process.js";

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

test("a site with example.test and *.example.test gets its certificate through DNS-01 (RFC 2136 to Knot); no TXT record is left", async (t) => {
  const work = tempDir("dns01-issuer");
  t.after(() => work.remove());
  const key = knot.keys["hmac-sha256"];
  const config = {
    ca: pebble.directoryUrl,
    ca_root: pebble.apiRootFile,
    accept_terms: true,
    storage: "data",
    sites: [
      {
        hosts: ["example.test", "*.example.test"],
        redirect: "https://elsewhere.test",
        tls: {
          challenges: ["dns-01"],
          dns: { provider: "rfc2136", server: knot.address, tsig_name: key.name, tsig_algorithm: key.algorithm, tsig_secret: key.secret.toString("base64") },
        },
      },
    ],
  };
  const dnsCheck = new AuthoritativeTxtCheck({ resolvers: [knot.address], nameserverPort: knot.port, pollIntervalMs: 50 });
  const p = await startPadlock(loadConfigIn(work.dir, config), { baseDir: work.dir, httpPort: 0, tuning: { dnsCheck } });
  t.after(() => p.close());
  const serial = await waitFor("the certificate", () => p.padlock.certificateManager!.status()[0]!.serial, 60_000);

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
