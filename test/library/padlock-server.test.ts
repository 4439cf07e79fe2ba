// createPadlockServer: the whole edge embedded in a Node program, through the package's entry
// (src/index.ts): sites from a config object, HTTPS with the certificate a site brings, reload,
// close, and a config problem as a PadlockError with its code.
import test from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { createPadlockServer, errorCode, PadlockError } from "../../src/index.js";
import { httpsGet, requestAs } from "../support/clients.js";
import { captureLog, tempDir } from "../support/env.js";
import { makeTestPki } from "../support/tls.js";

const NAME = "embedded.test";

test("createPadlockServer serves a config object's sites over HTTP and HTTPS, reloads a changed config and closes", async (t) => {
  const work = tempDir("embedded");
  t.after(() => work.remove());
  const pki = makeTestPki([NAME], mkdirSync(path.join(work.dir, "pki"), { recursive: true })!);
  for (const folder of ["one", "two"]) {
    mkdirSync(path.join(work.dir, folder));
    writeFileSync(path.join(work.dir, folder, "index.html"), `${folder}\n`);
  }
  const config = (folder: string) => ({ storage: path.join(work.dir, "data"), sites: [{ hosts: [NAME], static: folder, http: "serve", tls: { certificate: pki.certFile, key: pki.keyFile } }] });
  const { log } = captureLog();
  const server = await createPadlockServer({ config: config("one"), baseDir: work.dir, httpPort: 0, httpsPort: 0, listen: "127.0.0.1", logger: log });
  let closed = false;
  t.after(() => (closed ? undefined : server.close()));

  const plain = await requestAs(server.httpPort!, NAME, "/");
  assert.equal(plain.status, 200);
  assert.equal(plain.body.toString(), "one\n");
  const secure = await httpsGet(NAME, server.httpsPort!, pki.ca);
  assert.equal(secure.status, 200);
  assert.match(secure.names, new RegExp(NAME));

  await server.reload(config("two"));
  assert.equal((await requestAs(server.httpPort!, NAME, "/")).body.toString(), "two\n");

  await server.close();
  closed = true;
  await assert.rejects(requestAs(server.httpPort!, NAME, "/"), "nothing listens after close");
});

test("createPadlockServer rejects a config with problems as a PadlockError whose code says so", async () => {
  const err = await createPadlockServer({ config: { sites: [{ hosts: ["bad host name!"], static: "/nonexistent" }] }, httpPort: 0, httpsPort: 0, listen: "127.0.0.1" }).then(
    () => assert.fail("started with a bad config"),
    (e: unknown) => e,
  );
  assert.ok(err instanceof PadlockError);
  assert.equal(errorCode(err), "CONFIG_INVALID");
  assert.match((err as Error).message, /sites\[0\]|hosts/);
});
