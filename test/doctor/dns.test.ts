// DNS-based checks against pebble-challtestsrv as the resolver: a name pointing elsewhere,
// a CNAME, a name inside Cloudflare's ranges, CAA records allowing and forbidding the CA.
import test, { after, before } from "node:test";
import assert from "node:assert/strict";
import { createDnsLookup, resolveAddresses, ResolverSpecError, type DnsLookup } from "../../src/doctor/dns.js";
import { checkDnsAddresses } from "../../src/doctor/checks/dns-addresses.js";
import { checkCdnRanges } from "../../src/doctor/checks/cdn-ranges.js";
import { checkCaa } from "../../src/doctor/checks/caa.js";
import { localAddresses } from "../../src/doctor/local-addresses.js";
import { ChallTestSrv } from "../support/challtestsrv.js";

let server: ChallTestSrv;
let dns: DnsLookup;

before(async () => {
  server = await ChallTestSrv.start();
  dns = createDnsLookup(server.address, 3000);
});
after(() => server.close());

test("a name resolving to this machine passes", async () => {
  const resolved = await resolveAddresses(dns, "here.test");
  assert.deepEqual(resolved.addresses, ["127.0.0.1"]);
  const result = checkDnsAddresses("here.test", resolved, localAddresses(), dns.describe);
  assert.equal(result.status, "ok");
  assert.equal(result.found, "here.test resolves to 127.0.0.1, an address of this machine");
});

test("a name pointing elsewhere says which address, and which this machine has", async () => {
  await server.addA("elsewhere.test", ["192.0.2.7"]);
  const resolved = await resolveAddresses(dns, "elsewhere.test");
  const result = checkDnsAddresses("elsewhere.test", resolved, ["127.0.0.1", "198.51.100.4", "::1", "fe80::1"], dns.describe);
  assert.equal(result.status, "warn");
  assert.equal(result.found, "elsewhere.test resolves to 192.0.2.7 while this machine has 198.51.100.4");
  assert.match(result.fix, /point elsewhere\.test's A\/AAAA records at this machine/);
});

test("a stale AAAA beside a good A record is flagged: the CA may pick it", async () => {
  await server.addAAAA("mixed.test", ["2001:db8::7"]);
  const resolved = await resolveAddresses(dns, "mixed.test");
  const result = checkDnsAddresses("mixed.test", resolved, localAddresses(), dns.describe);
  assert.equal(result.status, "warn");
  assert.match(result.found, /^mixed\.test resolves to 127\.0\.0\.1, 2001:db8::7; 2001:db8::7 is not on this machine/);
});

test("a CNAME is followed to its target's addresses", async () => {
  await server.addA("target.test", ["192.0.2.9"]);
  await server.setCname("alias.test", "target.test");
  const resolved = await resolveAddresses(dns, "alias.test");
  assert.deepEqual(resolved.addresses, ["192.0.2.9"]);
});

test("a name inside Cloudflare's ranges warns that the challenge path must pass through", async () => {
  await server.addA("proxied.test", ["104.16.132.229"]);
  const result = checkCdnRanges("proxied.test", await resolveAddresses(dns, "proxied.test"));
  assert.equal(result.status, "warn");
  assert.match(result.found, /proxied\.test resolves to 104\.16\.132\.229, a Cloudflare address/);
  assert.match(result.fix, /make Cloudflare pass http:\/\/proxied\.test\/\.well-known\/acme-challenge\/ through/);
  assert.equal(checkCdnRanges("here.test", await resolveAddresses(dns, "here.test")).status, "ok");
});

test("CAA forbidding the CA fails with the record to add", async () => {
  await server.addCaa("forbidden.test", [{ tag: "issue", value: "sectigo.com" }]);
  const result = await checkCaa(dns, "forbidden.test", "letsencrypt", ["letsencrypt.org"]);
  assert.equal(result.status, "fail");
  assert.equal(result.found, "CAA at forbidden.test allows only sectigo.com; letsencrypt uses letsencrypt.org");
  assert.equal(result.fix, 'add a CAA record: forbidden.test. CAA 0 issue "letsencrypt.org" (or switch to a CA the records allow)');
});

test("CAA is inherited from the parent (RFC 8659 climbing) and may allow the CA", async () => {
  await server.addCaa("parent.test", [{ tag: "issue", value: "letsencrypt.org; validationmethods=http-01" }, { tag: "iodef", value: "mailto:x@parent.test" }]);
  const allowed = await checkCaa(dns, "www.blog.parent.test", "letsencrypt", ["letsencrypt.org"]);
  assert.equal(allowed.status, "ok");
  assert.equal(allowed.found, "CAA at parent.test (inherited by www.blog.parent.test) allows letsencrypt.org, which includes letsencrypt.org");
  const refused = await checkCaa(dns, "www.blog.parent.test", "zerossl", ["sectigo.com", "zerossl.com"]);
  assert.equal(refused.status, "fail");
});

test("no CAA records anywhere: any CA may issue", async () => {
  const result = await checkCaa(dns, "free.test", "letsencrypt", ["letsencrypt.org"]);
  assert.equal(result.status, "ok");
  assert.equal(result.found, "no CAA records for free.test or its parents: any CA may issue");
});

test('issue ";" forbids every CA', async () => {
  await server.addCaa("nobody.test", [{ tag: "issue", value: ";" }]);
  const result = await checkCaa(dns, "nobody.test", "letsencrypt", ["letsencrypt.org"]);
  assert.equal(result.status, "fail");
  assert.match(result.found, /allows only ";" \(no CA\)/);
});

test("a resolver that is not an address is refused with the form to use", () => {
  assert.throws(() => createDnsLookup("nonsense:53"), (err: unknown) => {
    assert.ok(err instanceof ResolverSpecError);
    assert.equal(err.message, '"nonsense:53" is not a DNS server address; write IP:PORT, e.g. 127.0.0.1:8053 or [::1]:53');
    return true;
  });
});
