import test from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { packageRoot } from "../../src/paths.js";
import { runPadlock } from "../support/padlock-process.js";
import { freePort, tempDir } from "../support/env.js";
import { Nginx } from "../support/nginx.js";

const run = (...args: string[]) => runPadlock(args, { env: { PADLOCK_LOG_LEVEL: "error" } });

test("--help lists the commands and serve --help every option", async () => {
  const top = await run("--help");
  assert.equal(top.code, 0);
  assert.match(top.stdout, /serve/);
  const serve = await run("serve", "--help");
  assert.equal(serve.code, 0);
  for (const option of ["--site <dir>", "--config <file>", "--http-port <n>", "--https-port <n>", "--listen <addr>", "--watch"]) {
    assert.ok(serve.stdout.includes(option), `serve --help should list ${option}:\n${serve.stdout}`);
  }
});

test("an invalid config exits 2 with every problem and no stack trace", async (t) => {
  const { dir, remove } = tempDir("cli");
  t.after(remove);
  const file = path.join(dir, "padlock.yaml");
  writeFileSync(file, "sites:\n  - hosts: [a.example]\n    blgo: ./site\n  - hosts: [UPPER.example]\n    redirect: https://x.example\n");
  const result = await run("serve", "--config", file);
  assert.equal(result.code, 2);
  assert.match(result.stderr, new RegExp(`${file}:3: sites\\[0\\]\\.blgo: unknown key`));
  assert.doesNotMatch(result.stderr, /\n\s+at /, "no stack trace");
});

test("a bad port number is refused with a clear message", async () => {
  const result = await run("serve", "--http-port", "99999");
  assert.notEqual(result.code, 0);
  assert.match(result.stderr, /"99999" is not a port number/);
});

test("the published JSON Schema is the one the code validates with", async () => {
  const published = readFileSync(path.join(packageRoot, "schema", "padlock.schema.json"), "utf8");
  const current = await runPadlock(["schema"]);
  assert.equal(current.code, 0, current.stderr);
  assert.equal(published, current.stdout, "run: ./bin/padlock schema > schema/padlock.schema.json");
});

test("an unknown command is named as such, with the list of commands (not taken as an argument of serve)", async () => {
  const result = await run("frobnicate");
  assert.equal(result.code, 2);
  assert.match(result.stderr, /^padlock: unknown command 'frobnicate'\. The commands are:\n/);
  for (const command of ["serve", "health", "doctor", "certs", "trust", "schema"]) assert.match(result.stderr, new RegExp(`\\n  ${command} +\\S`), command);
  assert.doesNotMatch(result.stderr, /too many arguments/);
});

test("a missing config file is named by its absolute path, with no line number", async (t) => {
  const { dir, remove } = tempDir("cli");
  t.after(remove);
  const result = await runPadlock(["serve", "--config", "padlock.yaml"], { cwd: dir });
  assert.equal(result.code, 2);
  assert.equal(result.stderr, `padlock: cannot read the config file ${path.join(dir, "padlock.yaml")}: no such file\n`);
});

test("one problem reads as one problem", async (t) => {
  const { dir, remove } = tempDir("cli");
  t.after(remove);
  const file = path.join(dir, "padlock.yaml");
  writeFileSync(file, "sites:\n  - hosts: [a.example]\n    blgo: ./site\n");
  const result = await run("serve", "--config", file);
  assert.equal(result.code, 2);
  assert.match(result.stderr, /^padlock: the config has 1 problem:\n/);
});

test("bin/padlock before the build says to run npm ci, not a module-not-found trace", async (t) => {
  const { dir: checkout, remove } = tempDir("unbuilt");
  t.after(remove);
  mkdirSync(path.join(checkout, "bin"));
  copyFileSync(path.join(packageRoot, "bin", "padlock"), path.join(checkout, "bin", "padlock"));
  copyFileSync(path.join(packageRoot, "package.json"), path.join(checkout, "package.json"));
  const result = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
    execFile(process.execPath, [path.join(checkout, "bin", "padlock"), "--help"], (err, _stdout, stderr) => resolve({ code: err ? (err.code as number) : 0, stderr }));
  });
  assert.equal(result.code, 2);
  assert.equal(result.stderr, `padlock: this checkout is not built yet: run \`npm ci\` in ${checkout} (it installs the dependencies and builds), then run padlock again\n`);
});

test("a port in use stops start-up naming the program and pid that hold it, with a newline at the end", async () => {
  const port = await freePort();
  const nginx = await Nginx.start(port);
  try {
    const result = await run("serve", "--listen", "127.0.0.1", "--http-port", String(port), "--https-port", "0");
    assert.equal(result.code, 2);
    assert.match(result.stderr, new RegExp(`^padlock: port ${port} is already in use on 127\\.0\\.0\\.1 by nginx \\(pid ${nginx.pid}\\); stop that program, or choose another port`));
    assert.ok(result.stderr.endsWith("\n"), JSON.stringify(result.stderr));
  } finally {
    await nginx.close();
  }
});
