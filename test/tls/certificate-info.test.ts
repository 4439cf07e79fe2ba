// The ARI certificate ID (RFC 9773 §4.1) of a certificate whose serial has its high bit set: the
// DER INTEGER keeps a leading zero byte, as in the RFC's own example (serial 0x87654321); and the
// Authority Key Identifier it is made from, read from the DER by hand.
import test from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { X509Certificate } from "node:crypto";
import * as x509 from "@peculiar/x509";
import { authorityKeyIdentifier } from "../../src/tls/authority-key-id.js";
import { readCertificate, splitChain } from "../../src/tls/certificate-info.js";
import { InternalCa } from "../../src/tls/internal-ca.js";
import { FolderKeyFileStore } from "../../src/tls/key-files.js";
import { tempDir } from "../support/env.js";

/** A CA and a leaf's key and request made by openssl in a temp folder; `leaf` signs a certificate with the given extensions. */
function opensslPki(t: test.TestContext, name: string) {
  const work = tempDir(name);
  t.after(() => work.remove());
  const f = (file: string) => path.join(work.dir, file);
  const openssl = (...args: string[]) => execFileSync("openssl", args, { stdio: ["ignore", "pipe", "pipe"], encoding: "utf8" });
  openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", f("ca.key"), "-out", f("ca.pem"), "-days", "2", "-subj", `/CN=${name} test CA`);
  openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", f("leaf.key"), "-out", f("leaf.csr"), "-subj", "/CN=blog.test");
  const leaf = (file: string, extensions: string, ...args: string[]): string => {
    writeFileSync(f(`${file}.cnf`), extensions);
    openssl("x509", "-req", "-in", f("leaf.csr"), "-CA", f("ca.pem"), "-CAkey", f("ca.key"), "-out", f(`${file}.pem`), "-days", "1", "-extfile", f(`${file}.cnf`), ...args);
    return readFileSync(f(`${file}.pem`), "utf8");
  };
  return { f, openssl, leaf };
}

test("ARI id: a serial with the high bit set keeps its leading zero byte", (t) => {
  const { f, openssl, leaf } = opensslPki(t, "ari-id");
  const leafPem = leaf("leaf", "subjectAltName=DNS:blog.test\nauthorityKeyIdentifier=keyid\n", "-set_serial", "0x87654321");
  const skid = /Subject Key Identifier:\s*\n\s*([0-9A-F:]+)/.exec(openssl("x509", "-noout", "-text", "-in", f("ca.pem")))![1]!.replace(/:/g, "");

  const { ariId } = readCertificate(leafPem);
  assert.equal(ariId, `${Buffer.from(skid, "hex").toString("base64url")}.AIdlQyE`);
});

test("Authority Key Identifier read from DER: as the X.509 library reads it, absent, critical, damaged", async (t) => {
  const pki = opensslPki(t, "aki");
  const leaf = (file: string, extensions: string) => new X509Certificate(pki.leaf(file, extensions));
  const byLibrary = (cert: X509Certificate) => new x509.X509Certificate(cert.raw).getExtension(x509.AuthorityKeyIdentifierExtension)?.keyId;

  const plain = leaf("plain", "subjectAltName=DNS:blog.test\nauthorityKeyIdentifier=keyid\n");
  const critical = leaf("critical", "subjectAltName=DNS:blog.test\nauthorityKeyIdentifier=critical,keyid\nsubjectKeyIdentifier=hash\n");
  const none = leaf("none", "subjectAltName=DNS:blog.test\nauthorityKeyIdentifier=none\nsubjectKeyIdentifier=none\n");
  const ca = await InternalCa.open(new FolderKeyFileStore(pki.f("internal-ca")));
  const internal = new X509Certificate(splitChain((await ca.issue(["blog.test"])).chainPem)[0]!);
  for (const cert of [plain, critical, internal]) {
    assert.ok(byLibrary(cert), "the library finds one");
    assert.equal(authorityKeyIdentifier(cert.raw)?.toString("hex"), byLibrary(cert));
  }
  assert.equal(byLibrary(none), undefined);
  assert.equal(authorityKeyIdentifier(none.raw), undefined);
  assert.throws(() => authorityKeyIdentifier(plain.raw.subarray(0, plain.raw.length - 90)), /DER/);
  assert.throws(() => authorityKeyIdentifier(Buffer.from("not DER at all")), /DER/);
});
