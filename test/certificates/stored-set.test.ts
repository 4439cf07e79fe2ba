// A stored set's shortcut: the pair padlock checked when it wrote it is read back from
// meta.json's digest without parsing, and any change to the files or to what meta.json says of
// them (damage, an edit, a key from elsewhere) sends the set through the full check instead.
import test from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { readSet, switchIn, type CertificateMeta, type StoredCertificate } from "../../src/certificates/stored-set.js";
import { FsStorage } from "../../src/storage/fs-storage.js";
import { readCertificate } from "../../src/tls/certificate-info.js";
import { InternalCa } from "../../src/tls/internal-ca.js";
import { FolderKeyFileStore } from "../../src/tls/key-files.js";
import { tempDir } from "../support/env.js";

async function setup(t: test.TestContext) {
  const work = tempDir("stored-set");
  t.after(() => work.remove());
  const ca = await InternalCa.open(new FolderKeyFileStore(path.join(work.dir, "ca")));
  const storage = await FsStorage.open(path.join(work.dir, "data"));
  const stored = async (names: string[], metaNames = names): Promise<StoredCertificate> => {
    const issued = await ca.issue(names);
    const info = readCertificate(issued.chainPem);
    const meta: CertificateMeta = {
      names: metaNames,
      ca: "https://ca.test/directory",
      keyType: "ecdsa-p256",
      serial: info.serial,
      notBefore: info.notBefore.toISOString(),
      notAfter: info.notAfter.toISOString(),
      issuedAt: info.notBefore.toISOString(),
    };
    return { chainPem: issued.chainPem, keyPem: issued.keyPem, info, meta };
  };
  const file = (folder: string, name: string) => path.join(work.dir, "data", folder, name);
  const metaOf = (folder: string) => JSON.parse(readFileSync(file(folder, "meta.json"), "utf8")) as CertificateMeta;
  return { storage, stored, file, metaOf };
}

test("a pair padlock wrote is read back through its digest, with the certificate's own figures", async (t) => {
  const { storage, stored, metaOf } = await setup(t);
  const cert = await stored(["blog.test", "www.blog.test"]);
  await switchIn(storage, "certificates/ca/blog.test", cert);
  assert.match(metaOf("certificates/ca/blog.test").checked ?? "", /^[\w-]{43}$/, "meta.json records the digest of the checked pair");
  const read = await readSet(storage, "certificates/ca/blog.test");
  assert.equal(read.kind, "ok");
  if (read.kind !== "ok") return;
  assert.deepEqual(read.info.names, cert.info.names);
  assert.equal(read.info.serial, cert.info.serial);
  assert.equal(read.info.notAfter.getTime(), cert.info.notAfter.getTime());
  assert.equal(read.info.notBefore.getTime(), cert.info.notBefore.getTime());
  assert.equal(read.info.issuer, cert.info.issuer, "the issuer, parsed on demand");
  assert.equal(read.info.ariId, cert.info.ariId);
  assert.equal(read.keyPem, cert.keyPem);
});

test("a key from another pair, a changed byte in the chain: the digest no longer holds and the full check names the damage", async (t) => {
  const { storage, stored, file } = await setup(t);
  await switchIn(storage, "certificates/ca/a.test", await stored(["a.test"]));
  await switchIn(storage, "certificates/ca/b.test", await stored(["b.test"]));
  writeFileSync(file("certificates/ca/a.test", "key.pem"), readFileSync(file("certificates/ca/b.test", "key.pem")));
  const swapped = await readSet(storage, "certificates/ca/a.test");
  assert.equal(swapped.kind, "damaged");
  assert.match(JSON.stringify(swapped), /does not match the certificate/);

  const chain = readFileSync(file("certificates/ca/b.test", "cert.pem"), "utf8");
  const middle = chain.indexOf("\n", 100) + 10; // a byte inside the leaf's base64
  writeFileSync(file("certificates/ca/b.test", "cert.pem"), chain.slice(0, middle) + (chain[middle] === "A" ? "B" : "A") + chain.slice(middle + 1));
  const changed = await readSet(storage, "certificates/ca/b.test");
  assert.equal(changed.kind, "damaged", "a changed byte is caught by the full check, not passed by the digest");
});

test("meta.json edited by hand (still JSON): the certificate's own dates are used, not the edit", async (t) => {
  const { storage, stored, file, metaOf } = await setup(t);
  const cert = await stored(["blog.test"]);
  await switchIn(storage, "certificates/ca/blog.test", cert);
  const meta = metaOf("certificates/ca/blog.test");
  writeFileSync(file("certificates/ca/blog.test", "meta.json"), JSON.stringify({ ...meta, notAfter: "2099-01-01T00:00:00.000Z" }));
  const read = await readSet(storage, "certificates/ca/blog.test");
  assert.equal(read.kind, "ok");
  if (read.kind === "ok") assert.equal(read.info.notAfter.getTime(), cert.info.notAfter.getTime());
});

test("no digest is written for a pair whose meta.json says what its certificate is not", async (t) => {
  const { storage, stored, metaOf } = await setup(t);
  await switchIn(storage, "certificates/ca/blog.test", await stored(["blog.test"], ["blog.test", "other.test"]));
  assert.equal(metaOf("certificates/ca/blog.test").checked, undefined, "names the certificate does not cover");
  const read = await readSet(storage, "certificates/ca/blog.test");
  assert.equal(read.kind, "ok");
  if (read.kind === "ok") assert.deepEqual(read.info.names, ["blog.test"], "the names come from the certificate itself");
});
