// What the container image relies on: $PADLOCK_CONFIG names the config when that file exists
// (else the example blog is served, saying where it looked), $PADLOCK_STORAGE is the storage
// when the config names none, and `padlock health` finds and checks the running padlock.
import test from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import path from "node:path";
import { exampleBlogDir } from "../../src/paths.js";
import { tempDir, waitFor } from "../support/env.js";
import { runPadlock, servePadlock, writeConfig } from "../support/padlock-process.js";

test("$PADLOCK_CONFIG is the config, $PADLOCK_STORAGE its storage; padlock health passes while it serves and fails once it stops", async (t) => {
  const work = tempDir("environment");
  t.after(() => work.remove());
  const config = writeConfig(path.join(work.dir, "padlock.yaml"), { sites: [{ hosts: ["localhost"], blog: exampleBlogDir, http: "serve" }] });
  const storage = path.join(work.dir, "data");
  const env = { PADLOCK_CONFIG: config, PADLOCK_STORAGE: storage };
  const serve = await servePadlock([], { env });
  const ports = ["--http-port", String(serve.httpPort), "--https-port", String(serve.httpsPort)];
  try {
    assert.ok(existsSync(path.join(storage, "internal-ca", "root.crt")), "the internal CA is kept in $PADLOCK_STORAGE");
    assert.ok(!existsSync(path.join(work.dir, "padlock-data")), "not in padlock-data beside the config");

    const healthy = await runPadlock(["health", ...ports], { env });
    assert.equal(healthy.code, 0, healthy.stderr);
    assert.equal(healthy.stdout, `padlock is serving: http://127.0.0.1:${serve.httpPort}/.well-known/acme-challenge/padlock-health answered 404, port ${serve.httpsPort} takes connections\n`);

    serve.child.kill("SIGHUP");
    await waitFor("the config named by $PADLOCK_CONFIG to be reloaded on SIGHUP", () => serve.logLines().some((l) => l.msg === "config reloaded: 1 site"));
  } finally {
    await serve.stop();
  }
  const down = await runPadlock(["health", ...ports], { env });
  assert.equal(down.code, 1);
  assert.equal(down.stderr, `padlock: not healthy: nothing answers HTTP on 127.0.0.1 port ${serve.httpPort} (ECONNREFUSED)\n`);
});

test("$PADLOCK_CONFIG naming a file that is not there: the example blog is served, and the log says where the config was looked for", async (t) => {
  const work = tempDir("environment");
  t.after(() => work.remove());
  const missing = path.join(work.dir, "etc", "padlock.yaml");
  const serve = await servePadlock([], { env: { PADLOCK_CONFIG: missing, PADLOCK_STORAGE: path.join(work.dir, "data") } });
  try {
    assert.ok(
      serve.logLines().some((l) => l.msg === `no config file at ${missing} ($PADLOCK_CONFIG): serving the bundled example blog from ${exampleBlogDir}; put your padlock.yaml there to serve your sites`),
      serve.output(),
    );
    const page = await fetch(`http://127.0.0.1:${serve.httpPort}/`);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /The padlock example blog/);
  } finally {
    await serve.stop();
  }
});
