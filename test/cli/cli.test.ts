import test from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { packageRoot } from "../../src/paths.js";
import { runPadlock } from "../support/padlock-process.js";

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

test("an invalid config exits 2 with every problem and no stack trace", async () => {
  const dir = mkdtempSync(path.join(tmpdir(), "padlock-cli-"));
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
