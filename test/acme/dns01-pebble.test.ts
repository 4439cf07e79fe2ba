// DNS-01 end to end: Pebble validates against Knot (its DNS server), padlock's providers (RFC 2136,
// and the exec hook driving Knot with knsupdate) publish the records, acme-client's lower-level
// API drives the order. A certificate for example.test and *.example.test (two values at one
// name, published at the same time), and no TXT record left afterwards.
import test, { after, before } from "node:test";
import assert from "node:assert/strict";
import https from "node:https";
import { X509Certificate } from "node:crypto";

import path from "node:path";
import acme from "acme-client";
import { AuthoritativeTxtCheck } from "../../src/acme/dns01/authoritative.js";
import { ExecHookProvider } from "../../src/acme/dns01/exec-hook.js";
import { withTxtRecord, type Dns01Provider } from "../../src/acme/dns01/provider.js";
import { challengeRecordName } from "../../src/config/dns-settings.js";
import { Rfc2136Provider } from "../../src/acme/dns01/rfc2136.js";
import { startKnot, type KnotServer } from "../support/knot.js";
import { startPebble, type Pebble } from "../support/pebble.js";
import { tempDir } from "../support/env.js";

let knot: KnotServer;
let pebble: Omit<Pebble, "dns">;
const tmp = tempDir("dns01-pebble");
const scratch = tmp.dir;

before(async () => {
  knot = await startKnot();
  pebble = await startPebble({ dnsServer: knot.address });
  acme.axios.defaults.httpsAgent = new https.Agent({ ca: pebble.apiRootPem });
});

after(async () => {
  await pebble?.stop();
  await knot?.stop();
  tmp.remove();
});

const check = () => new AuthoritativeTxtCheck({ resolver: knot.address, nameserverPort: knot.port, pollIntervalMs: 50 });

test("a certificate for example.test and *.example.test through DNS-01 with RFC 2136 updates", async () => {
  await issueWildcardCertificate(new Rfc2136Provider({ server: knot.address, key: knot.keys["hmac-sha256"], check: check() }));
});

test("a certificate for example.test and *.example.test through DNS-01 with the exec hook", async () => {
  await issueWildcardCertificate(new ExecHookProvider({ command: await knot.writeUpdateHook(scratch), check: check() }));
});

async function issueWildcardCertificate(provider: Dns01Provider): Promise<void> {
  const client = new acme.Client({ directoryUrl: pebble.directoryUrl, accountKey: await acme.crypto.createPrivateEcdsaKey() });
  await client.createAccount({ termsOfServiceAgreed: true });
  const names = ["example.test", "*.example.test"];
  const order = await client.createOrder({ identifiers: names.map((value) => ({ type: "dns", value })) });
  const authorizations = await client.getAuthorizations(order);
  assert.equal(authorizations.length, 2);

  const cleanupErrors: unknown[] = [];
  const published: string[] = [];
  await Promise.all(
    authorizations.map(async (authorization) => {
      const challenge = authorization.challenges.find((c) => c.type === "dns-01");
      assert.ok(challenge, `no dns-01 challenge for ${authorization.identifier.value}`);
      const value = await client.getChallengeKeyAuthorization(challenge);
      const fqdn = challengeRecordName(`${authorization.wildcard ? "*." : ""}${authorization.identifier.value}`);
      await withTxtRecord(
        provider,
        { fqdn, value, visibleBy: new Date(Date.now() + 10_000) },
        async () => {
          published.push(value);
          await client.completeChallenge(challenge);
          await client.waitForValidStatus(challenge);
        },
        { onCleanupError: (err) => cleanupErrors.push(err) },
      );
    }),
  );
  assert.equal(new Set(published).size, 2, "the apex and the wildcard each had their own value");

  const [, csr] = await acme.crypto.createCsr({ commonName: "example.test", altNames: names });
  const finalized = await client.finalizeOrder(order, csr);
  const chain = await client.getCertificate(finalized);
  const leaf = new X509Certificate(chain);
  assert.equal(leaf.subjectAltName?.split(", ").sort().join(", "), "DNS:*.example.test, DNS:example.test");
  const issuingRoot = new X509Certificate(await pebble.issuingRoot());
  const intermediate = new X509Certificate(chain.slice(chain.indexOf("-----BEGIN CERTIFICATE-----", 10)));
  assert.ok(leaf.verify(intermediate.publicKey) && intermediate.verify(issuingRoot.publicKey), "chains to Pebble's root");

  assert.deepEqual(cleanupErrors, []);
  assert.deepEqual(await knot.txt("_acme-challenge.example.test"), [], "no TXT record left behind");
}
