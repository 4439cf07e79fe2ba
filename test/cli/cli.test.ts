import test from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { cliPath, repoRoot } from "../support/repo.js";

const run = (...args: string[]) => spawnSync(cliPath, args, { encoding: "utf8", env: { ...process.env, PADLOCK_LOG_LEVEL: "error" } });

test("--help lists the commands and serve --help every option", () => {
  const top = run("--help");
  assert.equal(top.status, 0);
  assert.match(top.stdout, /serve/);
  const serve = run("serve", "--help");
  assert.equal(serve.status, 0);
  for (const option of ["--site <dir>", "--config <file>", "--http-port <n>", "--https-port <n>", "--listen <addr>", "--watch"]) {
    assert.ok(serve.stdout.includes(option), `serve --help should list ${option}:\n${serve.stdout}`);
  }
});

test("an invalid config exits 2 with every problem and no stack trace", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "padlock-cli-"));
  const file = path.join(dir, "padlock.yaml");
  writeFileSync(file, "sites:\n  - hosts: [a.example]\n    blgo: ./site\n  - hosts: [UPPER.example]\n    redirect: https://x.example\n");
  const result = run("serve", "--config", file);
  assert.equal(result.status, 2);
  assert.match(result.stderr, new RegExp(`${file}:3: sites\\[0\\]\\.blgo: unknown key`));
  assert.doesNotMatch(result.stderr, /\n\s+at /, "no stack trace");
});

test("a bad port number is refused with a clear message", () => {
  const result = run("serve", "--http-port", "99999");
  assert.notEqual(result.status, 0);
  assert.match(result.stderr, /"99999" is not a port number/);
});

test("the published JSON Schema is the one the code validates with", () => {
  const published = readFileSync(path.join(repoRoot, "schema", "padlock.schema.json"), "utf8");
  const current = execFileSync(cliPath, ["schema"], { encoding: "utf8" });
  assert.equal(published, current, "run: ./bin/padlock schema > schema/padlock.schema.json");
});
