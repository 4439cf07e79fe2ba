// The certificate cache builds a certificate's TLS context on its first handshake, not at
// install, keeps the most recently used contexts up to its bound, and drops a replaced
// certificate's context.
import test from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { CertificateCache } from "../../src/tls/certificate-cache.js";
import { InternalCa } from "../../src/tls/internal-ca.js";
import { FolderKeyFileStore } from "../../src/tls/key-files.js";
import { tempDir } from "../support/env.js";

test("contexts are built on first use, the least recently used evicted beyond the bound, a replaced one dropped", async (t) => {
  const work = tempDir("cache");
  t.after(() => work.remove());
  const ca = await InternalCa.open(new FolderKeyFileStore(path.join(work.dir, "ca")));
  const cache = new CertificateCache(2);
  const issued = await Promise.all(["a.test", "b.test", "c.test"].map((n) => ca.issue([n])));
  const [a, b, c] = issued.map((i) => cache.install(i.keyPem, i.chainPem, i.names, i.notAfter));
  assert.equal(cache.builtContexts, 0, "nothing built at install");
  const first = a!.context;
  assert.equal(cache.builtContexts, 1);
  assert.equal(a!.context, first, "built once, then reused");
  void b!.context;
  void a!.context; // a is now the most recently used
  void c!.context; // evicts b
  assert.equal(cache.builtContexts, 2);
  assert.equal(a!.context, first, "a kept");
  assert.equal(cache.lookup("B.TEST"), b, "an evicted context's certificate is still served");
  assert.notEqual(b!.context, undefined, "and its context built again");

  const renewed = await ca.issue(["a.test"]);
  const a2 = cache.install(renewed.keyPem, renewed.chainPem, renewed.names, renewed.notAfter);
  assert.equal(cache.lookup("a.test"), a2);
  assert.equal(cache.builtContexts, 1, "the replaced certificate's context is gone");
});
