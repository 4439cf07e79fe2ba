// The CSR padlock finalizes orders with: openssl verifies its signature and reads the same names,
// for every key type padlock makes, DNS names and IP addresses alike.
import test from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createCsr } from "../../src/acme/csr.js";
import { createPrivateKey } from "../../src/tls/pem.js";
import type { KeyType } from "../../src/config/schema.js";

const pem = (b64url: string) => `-----BEGIN CERTIFICATE REQUEST-----\n${Buffer.from(b64url, "base64url").toString("base64").replace(/.{64}/g, "$&\n")}\n-----END CERTIFICATE REQUEST-----\n`;
/** openssl's reading of the CSR, once it verified the signature (openssl 3.0 exits 0 either way: its message tells). */
function openssl(csr: string): string {
  const r = spawnSync("openssl", ["req", "-verify", "-noout", "-text"], { input: pem(csr), encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /self-signature verify OK/);
  return r.stdout;
}

for (const keyType of ["ecdsa-p256", "ecdsa-p384", "rsa2048"] as KeyType[]) {
  test(`CSR with a ${keyType} key: signature verified by openssl, names as given`, () => {
    const names = ["blog.test", "www.blog.test", "127.0.0.1", "2001:db8::ffff:10.0.0.1", "::1"];
    const text = openssl(createCsr(names, createPrivateKey(keyType)));
    assert.match(text, /Subject: CN ?= ?blog\.test/);
    assert.match(text, /Requested Extensions:\s+X509v3 Subject Alternative Name:\s+DNS:blog\.test, DNS:www\.blog\.test, IP Address:127\.0\.0\.1, IP Address:2001:DB8:0:0:0:FFFF:A00:1, IP Address:0:0:0:0:0:0:0:1\s/);
    assert.match(text, keyType === "rsa2048" ? /sha256WithRSAEncryption/ : keyType === "ecdsa-p384" ? /ecdsa-with-SHA384/ : /ecdsa-with-SHA256/);
  });
}

test("CSR: no common name when no name fits one (IP addresses, a name over 64 characters); long SAN lists", () => {
  const long = `${"a".repeat(60)}.test`;
  const text = openssl(createCsr([long, "10.1.2.3"], createPrivateKey("ecdsa-p256")));
  assert.doesNotMatch(text, /CN ?=/);
  assert.match(text, new RegExp(`DNS:${long}, IP Address:10\\.1\\.2\\.3`));
  const many = Array.from({ length: 100 }, (_, i) => `host-${i}.blog.test`);
  assert.equal((openssl(createCsr(many, createPrivateKey("ecdsa-p256"))).match(/DNS:host-/g) ?? []).length, 100);
});

test("CSR: a changed byte in the signed part fails openssl's check (the check above can fail)", () => {
  const der = Buffer.from(createCsr(["blog.test"], createPrivateKey("ecdsa-p256")), "base64url");
  const at = der.indexOf(Buffer.from("blog.test")) + 2;
  der[at] = der[at]! ^ 1;
  assert.throws(() => openssl(der.toString("base64url")), /verify OK/);
});
