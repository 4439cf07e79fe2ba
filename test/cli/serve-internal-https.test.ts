// `padlock serve` with local-only hosts serves HTTPS at once with a certificate from the internal
// CA, and curl trusts it with the root `padlock trust` prints.
import test, { after } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { chmod, mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { runPadlock, servePadlock } from "../support/padlock-process.js";
import { tempDir } from "../support/env.js";

const run = promisify(execFile);
const tmp = tempDir("serve-internal");
const scratch = tmp.dir;

after(async () => {
  tmp.remove();
});

test("local hosts get HTTPS from the internal CA; curl --cacert <printed root> succeeds", async () => {
  const config = path.join(scratch, "padlock.yaml");
  await writeFile(config, 'storage: ./data\nsites:\n  - hosts: [localhost, 127.0.0.1, "::1"]\n    redirect: https://example.org\n');
  const serve = await servePadlock(["--config", config]);
  try {
    const { httpsPort } = serve;
    assert.match(serve.output(), /internal CA: certificate for localhost, 127\.0\.0\.1, ::1 installed/);

    const { code, stdout: trust, stderr } = await runPadlock(["trust", "--config", config]);
    assert.equal(code, 0, stderr);
    const rootPath = /stored at: +(\S+)/.exec(trust)?.[1];
    assert.equal(rootPath, path.join(scratch, "data", "internal-ca", "root.crt"));

    for (const url of [`https://localhost:${httpsPort}/`, `https://127.0.0.1:${httpsPort}/`]) {
      const curl: { stdout: string } = await run("curl", ["--silent", "--show-error", "--cacert", rootPath!, "--resolve", `localhost:${httpsPort}:127.0.0.1`, "-o", "/dev/null", "-w", "%{http_code} %{ssl_verify_result}", url]);
      assert.equal(curl.stdout, "308 0", `${url}: a verified TLS connection answered by the site`);
    }
  } finally {
    await serve.stop();
  }
});

test("a storage folder padlock may not write stops start-up with a message naming it (run as nobody)", async () => {
  const publicDir = path.join(scratch, "public");
  const privateDir = path.join(scratch, "root-only");
  await mkdir(publicDir, { mode: 0o755 });
  await mkdir(privateDir, { mode: 0o700 });
  await chmod(scratch, 0o755);
  const config = path.join(publicDir, "padlock.yaml");
  await writeFile(config, `storage: ${privateDir}/data\nsites:\n  - hosts: [localhost]\n    redirect: https://example.org\n`, { mode: 0o644 });
  const result = await runPadlock(["serve", "--config", config, "--listen", "127.0.0.1", "--http-port", "0", "--https-port", "0"], {
    asUser: { user: "nobody", group: "nogroup" },
    env: { HOME: publicDir },
  });
  assert.equal(result.code, 2);
  assert.ok(result.stderr.includes(`cannot keep padlock's internal CA in ${privateDir}/data/internal-ca (EACCES`), result.stderr);
  assert.ok(result.stderr.includes(`sudo chown -R "$(id -un)" ${privateDir}/data`), result.stderr);
  assert.doesNotMatch(result.stderr, /\n\s+at /, "no stack trace");
});

test("with no config, padlock serve serves the example blog over HTTPS too (8443 by default); curl --cacert <printed root> succeeds", async () => {
  const help = await runPadlock(["serve", "--help"]);
  assert.equal(help.code, 0, help.stderr);
  assert.match(help.stdout, /--https-port <n> +HTTPS port \(default 443 with --config, else 8443\)/);
  const dataHome = path.join(scratch, "xdg-data");
  const serve = await servePadlock([], { env: { XDG_DATA_HOME: dataHome } });
  try {
    const { httpsPort } = serve;
    const output = serve.output();
    const rootPath = /root certificate at (\S+);/.exec(output)?.[1];
    assert.equal(rootPath, path.join(dataHome, "padlock", "internal-ca", "root.crt"), `the log names the root to trust:\n${output}`);
    const curl: { stdout: string } = await run("curl", ["--silent", "--show-error", "--cacert", rootPath!, "--resolve", `localhost:${httpsPort}:127.0.0.1`, "-w", "\n%{http_code} %{ssl_verify_result}", `https://localhost:${httpsPort}/`]);
    assert.match(curl.stdout, /\n200 0$/, "a verified TLS connection");
    assert.match(curl.stdout, /<html/i, "the example blog's front page");
    const plain: { stdout: string } = await run("curl", ["--silent", "--show-error", "-o", "/dev/null", "-w", "%{http_code}", `http://127.0.0.1:${serve.httpPort}/`]);
    assert.equal(plain.stdout, "200", "plain HTTP keeps serving the blog (no redirect on localhost)");
  } finally {
    await serve.stop();
  }
});
