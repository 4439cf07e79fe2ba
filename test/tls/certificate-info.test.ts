// The ARI certificate ID (RFC 9773 §4.1) of a certificate whose serial has its high bit set: the
// DER INTEGER keeps a leading zero byte, as in the RFC's own example (serial 0x87654321).
import test from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { readCertificate } from "../../src/tls/certificate-info.js";
import { tempDir } from "../support/env.js";

test("ARI id: a serial with the high bit set keeps its leading zero byte", (t) => {
  const work = tempDir("ari-id");
  t.after(() => work.remove());
  const f = (name: string) => path.join(work.dir, name);
  const openssl = (...args: string[]) => execFileSync("openssl", args, { stdio: ["ignore", "pipe", "pipe"], encoding: "utf8" });
  openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", f("ca.key"), "-out", f("ca.pem"), "-days", "2", "-subj", "/CN=ari test CA");
  openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", f("leaf.key"), "-out", f("leaf.csr"), "-subj", "/CN=blog.test");
  writeFileSync(f("ext.cnf"), "subjectAltName=DNS:blog.test\nauthorityKeyIdentifier=keyid\n");
  openssl("x509", "-req", "-in", f("leaf.csr"), "-CA", f("ca.pem"), "-CAkey", f("ca.key"), "-set_serial", "0x87654321", "-out", f("leaf.pem"), "-days", "1", "-extfile", f("ext.cnf"));
  const skid = /Subject Key Identifier:\s*\n\s*([0-9A-F:]+)/.exec(openssl("x509", "-noout", "-text", "-in", f("ca.pem")))![1]!.replace(/:/g, "");

  const { ariId } = readCertificate(readFileSync(f("leaf.pem"), "utf8"));
  assert.equal(ariId, `${Buffer.from(skid, "hex").toString("base64url")}.AIdlQyE`);
});
