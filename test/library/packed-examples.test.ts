// The package as its users get it: `npm pack`, installed into a fresh project beside express,
// fastify, hono and @hono/node-server from the registry; the three examples run against Pebble
// through the package's public entry only (none of src/ is reachable from there), and a consumer
// file that uses the API passes `tsc --noEmit --strict` against the published .d.ts.
import test from "node:test";
import assert from "node:assert/strict";
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { cpSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { packageRoot } from "../../src/paths.js";
import { httpsGet } from "../support/clients.js";
import { freePort, tempDir, waitFor } from "../support/env.js";
import { startPebble } from "../support/pebble.js";
import { stopProcess } from "../support/processes.js";

const run = promisify(execFile);
const npm = (args: string[], cwd: string) => run("npm", [...args, "--no-audit", "--no-fund", "--loglevel=error"], { cwd, maxBuffer: 16 * 1024 * 1024 });

/** What a user of the package writes, checked with the strictest settings. */
const CONSUMER = `
import https from "node:https";
import http from "node:http";
import { manageCertificates, createPadlockServer, PadlockError, type ManagedCertificates, type CertificateFailure, type PadlockErrorCode } from "padlock-https";

const certs: ManagedCertificates = await manageCertificates({
  ca: "letsencrypt-staging",
  email: "ops@example.com",
  acceptTerms: true,
  storage: "/var/lib/app/certificates",
  names: (name: string) => name.endsWith(".example.com"),
  logger: console,
  challenges: ["tls-alpn-01"],
});
const server = https.createServer({ SNICallback: certs.sniCallback }, (_req, res) => res.end("hi"));
certs.attachTlsAlpn(server);
http.createServer(certs.http01((_req, res) => res.end("plain"))).listen(80);
certs.on("installed", (c) => console.log(c.serial, c.notAfter.toISOString()));
certs.on("renewed", (c) => console.log(c.names.join(", ")));
certs.on("failed", (f: CertificateFailure) => {
  const code: PadlockErrorCode | undefined = f.code;
  console.log(code, f.nextRetry.getTime());
});
await certs.renew("a.example.com", { force: true });
await certs.revoke("a.example.com", "keyCompromise");
const next: Date | undefined = certs.status()[0]?.nextRenewal;
await certs.close();
try {
  const edge = await createPadlockServer({ config: "padlock.yml", httpPort: 8080, httpsPort: 8443 });
  console.log(edge.httpPort, next);
  await edge.close();
} catch (err) {
  if (err instanceof PadlockError && err.code === "CONFIG_INVALID") console.error(err.message);
}
`;

const EXAMPLES = [
  { name: "express", says: "Hello from Express over HTTPS" },
  { name: "fastify", says: "Hello from Fastify over HTTPS" },
  { name: "hono", says: "Hello from Hono over HTTPS" },
];

test("the packed package installs into a fresh project; the Express, Fastify and Hono examples get certificates from Pebble; a strict consumer type-checks", async (t) => {
  const work = tempDir("packed");
  t.after(() => work.remove());

  // --ignore-scripts: the tests run from the build that is there; `prepare` would rebuild it under them.
  const { stdout } = await npm(["pack", "--ignore-scripts", "--json", "--pack-destination", work.dir], packageRoot);
  const packed = JSON.parse(stdout) as { filename: string; files: { path: string }[] }[];
  const files = packed[0]!.files.map((f) => f.path);
  assert.deepEqual(files.filter((f) => /(^|\/)test\/|\.test\.js$/.test(f)), [], "nothing from the tests is packed");
  assert.deepEqual(files.filter((f) => f.endsWith(".d.ts")).sort(), ["dist/types/errors.d.ts", "dist/types/index.d.ts", "dist/types/library/api.d.ts", "dist/types/library/manage-certificates.d.ts", "dist/types/library/padlock-server.d.ts"]);
  for (const needed of ["bin/padlock", "dist/src/index.js", "dist/src/cli/main.js", "examples/express/server.mjs"]) assert.ok(files.includes(needed), `${needed} is packed`);

  const project = path.join(work.dir, "app");
  mkdirSync(project);
  writeFileSync(path.join(project, "package.json"), JSON.stringify({ name: "app", private: true, type: "module" }));
  await npm(["install", path.join(work.dir, packed[0]!.filename), "express@5", "fastify@5", "hono@4", "@hono/node-server@1"], project);

  writeFileSync(path.join(project, "consumer.ts"), CONSUMER);
  writeFileSync(
    path.join(project, "tsconfig.json"),
    JSON.stringify({
      compilerOptions: { strict: true, noEmit: true, module: "NodeNext", moduleResolution: "NodeNext", target: "ES2022", skipLibCheck: false, types: ["node"], typeRoots: [path.join(packageRoot, "node_modules/@types")] },
      files: ["consumer.ts"],
    }),
  );
  const tsc = path.join(packageRoot, "node_modules/.bin/tsc");
  const checked = await run(tsc, ["-p", project], { cwd: project }).then(
    () => "",
    (err: { stdout?: string }) => err.stdout ?? String(err),
  );
  assert.equal(checked, "", "tsc --strict on the consumer file");

  const httpPort = await freePort();
  const pebble = await startPebble({ httpPort });
  t.after(() => pebble.stop());
  const root = await pebble.issuingRoot();
  for (const example of EXAMPLES) {
    const dir = path.join(project, example.name);
    cpSync(path.join(packageRoot, "examples", example.name), dir, { recursive: true });
    const httpsPort = await freePort();
    const domain = `${example.name}.test`;
    const output: string[] = [];
    const child: ChildProcess = spawn(process.execPath, ["server.mjs"], {
      cwd: dir,
      env: { ...process.env, ACME_CA: pebble.directoryUrl, NODE_EXTRA_CA_CERTS: pebble.apiRootFile, DOMAINS: domain, EMAIL: "ops@example.test", HTTP_PORT: String(httpPort), HTTPS_PORT: String(httpsPort) },
      stdio: ["ignore", "pipe", "pipe"],
    });
    child.stdout!.on("data", (d: Buffer) => output.push(d.toString()));
    child.stderr!.on("data", (d: Buffer) => output.push(d.toString()));
    try {
      const answer = await waitFor(
        `${example.name}: HTTPS with a certificate from Pebble`,
        () => {
          if (child.exitCode !== null) throw new Error(`${example.name} exited (${child.exitCode}):\n${output.join("")}`);
          return httpsGet(domain, httpsPort, root).catch(() => undefined);
        },
        30_000,
        100,
      );
      assert.equal(answer.status, 200, example.name);
      assert.equal(answer.body, `${example.says}, ${domain}\n`);
      assert.match(answer.names, new RegExp(`DNS:${domain.replace(".", "\\.")}`));
      assert.ok(readdirSync(path.join(dir, "certificates")).includes("certificates"), `${example.name} stored its certificate in its storage folder`);
    } finally {
      await stopProcess(child);
    }
  }
});
