import test from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { parseConfig, loadConfigFile } from "../../src/config/load.js";
import { ConfigError } from "../../src/config/problems.js";
import { hostNameProblem } from "../../src/config/host-name.js";
import { packageRoot } from "../../src/paths.js";
import { tempDir } from "../support/env.js";

function problemsOf(yaml: string, file = "padlock.yaml"): string[] {
  try {
    parseConfig(yaml, file);
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
    return err.message.split("\n");
  }
  assert.fail("the config was accepted");
}

test("a valid config with the brief's keys is accepted", (t) => {
  const { dir, remove } = tempDir("config");
  t.after(remove);
  const file = path.join(dir, "padlock.yaml");
  writeFileSync(
    file,
    [
      "email: me@example.com",
      "ca: letsencrypt",
      "accept_terms: true",
      "storage: ./data",
      "sites:",
      "  - hosts: [example.com, www.example.com]",
      "    blog: .",
      "    routes:",
      '      - { path: /dp_sim/, name: dp_sim, proxy: "http://127.0.0.1:5001" }',
      "  - hosts: [admin.example.com]",
      "    proxy: http://127.0.0.1:8080",
    ].join("\n"),
  );
  const config = loadConfigFile(file);
  assert.equal(config.sites.length, 2);
  assert.deepEqual(config.sites[0]!.routes![0], { path: "/dp_sim/", name: "dp_sim", proxy: "http://127.0.0.1:5001" });
});

test("every schema problem is listed with file, line and key", () => {
  const lines = problemsOf(
    [
      "email: nope", // 1
      "sites:", // 2
      "  - hosts: [a.example]", // 3
      "    proxxy: http://x", // 4
      "    routes:", // 5
      "      - { path: dp_sim, proxy: 'ftp://x' }", // 6
      "    hsts: maybe", // 7
      "    colour: blue", // 8
    ].join("\n"),
  );
  assert.deepEqual(lines, [
    "padlock.yaml:1: email: not a valid email",
    'padlock.yaml:4: sites[0].proxxy: unknown key; did you mean "proxy"?',
    "padlock.yaml:6: sites[0].routes[0].path: does not match the expected form (a path starting with /)",
    "padlock.yaml:6: sites[0].routes[0].proxy: not an accepted value; expected upstream URL, or several (round-robin with passive health checks)",
    "padlock.yaml:7: sites[0].hsts: not an accepted value; expected one of: boolean, object",
    "padlock.yaml:8: sites[0].colour: unknown key; expected one of: hosts, blog, static, proxy, redirect, routes, default, canonical, http, headers, hsts, tls, preserve_host, timeout, max_body",
  ]);
});

test("a site's headers: must be fields padlock can send on every response, each problem on its line", () => {
  const lines = problemsOf(
    [
      "sites:", // 1
      "  - hosts: [a.example]", // 2
      "    proxy: http://127.0.0.1:5001", // 3
      "    headers:", // 4
      "      X-Frame-Options: DENY", // 5
      "      Bad Name: x", // 6
      "      Content-Length: '5'", // 7
      '      X-Split: "a\\r\\nInjected: b"', // 8
      "      Cache-Control: max-age=600", // 9
      "      Vary: Origin", // 10
      "      HTTP2-Settings: x", // 11
      '      X-Padded: " a "', // 12
    ].join("\n"),
  );
  assert.deepEqual(lines, [
    "padlock.yaml:6: sites[0].headers.Bad Name: \"Bad Name\" is not a header field name; names are letters, digits and !#$%&'*+-.^_`|~ without spaces or colons",
    "padlock.yaml:7: sites[0].headers.Content-Length: Content-Length is set by padlock for each response (it describes that response or its connection), not in a site's headers:",
    "padlock.yaml:8: sites[0].headers.X-Split: the value of X-Split holds a character a header cannot carry (a line break, another control character, or one beyond Latin-1); write it on one line in plain text",
    "padlock.yaml:10: sites[0].headers.Vary: Vary is set by padlock for each response (it describes that response or its connection), not in a site's headers:",
    "padlock.yaml:11: sites[0].headers.HTTP2-Settings: HTTP2-Settings is set by padlock for each response (it describes that response or its connection), not in a site's headers:",
    "padlock.yaml:12: sites[0].headers.X-Padded: the value of X-Padded starts or ends with white space, which HTTP/2 does not allow; remove it",
  ]);
});

test("YAML syntax errors point at their line", () => {
  const [line] = problemsOf("sites:\n  - hosts: [a.example\n  blog: x\n");
  assert.match(line!, /^padlock\.yaml:\d+: \(top level\): invalid YAML: /);
});

test("checks beyond the schema: folders, hosts, one owner per host, CA names", () => {
  const lines = problemsOf(
    [
      "ca: lets-encrypt",
      "sites:",
      "  - hosts: [Example.com, b.example]",
      "    blog: /nonexistent/folder",
      "  - hosts: [b.example, -bad.example]",
      "    redirect: https://example.com",
    ].join("\n"),
  );
  assert.deepEqual(lines, [
    'padlock.yaml:1: ca: unknown CA "lets-encrypt"; expected one of letsencrypt, letsencrypt-staging, zerossl, internal or an ACME directory URL (https://…/directory)',
    'padlock.yaml:3: sites[0].hosts[0]: "Example.com" must be written in lower case',
    'padlock.yaml:4: sites[0].blog: folder "/nonexistent/folder" does not exist; create it or fix the path (relative paths are relative to the config file)',
    'padlock.yaml:5: sites[1].hosts[0]: "b.example" is already served by sites[0]; a host belongs to one site',
    'padlock.yaml:5: sites[1].hosts[1]: "-bad.example" is not a valid host name: label "-bad" must be 1-63 letters, digits or hyphens, not starting or ending with a hyphen',
  ]);
});

test("a site must serve exactly one thing", () => {
  const lines = problemsOf("sites:\n  - hosts: [a.example]\n    redirect: https://b.example\n    proxy: http://127.0.0.1:1\n  - hosts: [c.example]\n");
  assert.deepEqual(lines, [
    "padlock.yaml:4: sites[0].proxy: a site serves one thing, but this one has redirect and proxy; put the others under routes:",
    "padlock.yaml:5: sites[1].hosts: this site serves nothing; add blog:, static:, proxy:, redirect: or routes:",
  ]);
});

test("ZeroSSL without External Account Binding is refused", () => {
  const [line] = problemsOf("ca: zerossl\nsites:\n  - hosts: [a.example]\n    redirect: https://b.example\n");
  assert.match(line!, /^padlock\.yaml:1: ca: ZeroSSL needs External Account Binding/);
});

test("host name rules", () => {
  for (const ok of ["example.com", "*.example.com", "localhost", "127.0.0.1", "::1", "a-b.c0.example"]) {
    assert.equal(hostNameProblem(ok), undefined, ok);
  }
  for (const bad of ["a..b", "*a.example.com", "a.*.example.com", "ex ample.com", "example.com.", "a_b.example"]) {
    assert.notEqual(hostNameProblem(bad), undefined, bad);
  }
});

test("a missing config file is a config problem, not a crash, named by its absolute path with no line", () => {
  assert.throws(() => loadConfigFile("/nonexistent/padlock.yaml"), (err: unknown) => {
    assert.ok(err instanceof ConfigError);
    assert.equal(err.message, "cannot read the config file /nonexistent/padlock.yaml: no such file");
    return true;
  });
  const relative = path.relative(process.cwd(), "/nonexistent/padlock.yaml");
  assert.throws(() => loadConfigFile(relative), { message: "cannot read the config file /nonexistent/padlock.yaml: no such file" });
});

test("the compose example's config is valid", () => {
  const config = loadConfigFile(path.join(packageRoot, "examples", "flask-behind-padlock", "padlock.yaml"));
  assert.deepEqual(config.sites[0]!.hosts, ["example.com", "www.example.com"]);
});
