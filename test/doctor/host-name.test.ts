// Which names a CA can issue for: local-only names fail with a public CA, pass with a private one.
import test from "node:test";
import assert from "node:assert/strict";
import { checkHostName, nonPublicReason } from "../../src/doctor/checks/host-name.js";
import type { CaTarget } from "../../src/doctor/ca-target.js";

const letsencrypt: CaTarget = { name: "letsencrypt", directoryUrl: "https://acme-v02.api.letsencrypt.org/directory", isPublic: true, caaIdentities: ["letsencrypt.org"] };
const pebble: CaTarget = { name: "https://127.0.0.1:14000/dir", directoryUrl: "https://127.0.0.1:14000/dir", isPublic: false, caaIdentities: [] };
const HTTP = ["http-01"];

test("names only a local network knows are not public", () => {
  for (const name of ["localhost", "blog.test", "nas.local", "app.internal", "router.home.arpa", "intranet", "10.0.0.5", "127.0.0.1", "::1", "fd00::1"]) {
    assert.ok(nonPublicReason(name), name);
  }
  for (const name of ["blog.example.com", "203.0.113.7", "testing.com", "local.example.org", "2001:db8::1"]) {
    assert.equal(nonPublicReason(name), undefined, name);
  }
});

test("a public CA refuses localhost and .test names, and the message says so", () => {
  const result = checkHostName("localhost", letsencrypt, HTTP);
  assert.equal(result.status, "fail");
  assert.equal(result.found, '"localhost" has no dot: it is not a name in the public DNS; letsencrypt is a public CA and will refuse it');
  assert.match(result.fix, /ca: internal/);
  assert.equal(checkHostName("blog.test", letsencrypt, HTTP).status, "fail");
  assert.equal(checkHostName("blog.test", pebble, HTTP).status, "ok");
  assert.equal(checkHostName("blog.example.com", letsencrypt, HTTP).status, "ok");
});

test("a wildcard needs DNS-01", () => {
  assert.equal(checkHostName("*.example.com", letsencrypt, HTTP).status, "fail");
  assert.equal(checkHostName("*.example.com", letsencrypt, ["dns-01"]).status, "ok");
});
