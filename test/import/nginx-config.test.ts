// Reading nginx's configuration syntax: quoting and escapes as nginx reads them, comments,
// `${var}`, Lua blocks, includes (relative to the prefix, wildcards, missing files, loops) and
// syntax errors that name the file and line.
import test from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { NginxSyntaxError, pathMap, readNginxConfig, type NginxDirective } from "../../src/import/nginx-config.js";
import { tempDir } from "../support/env.js";
import { runPadlock } from "../support/padlock-process.js";

function files(t: test.TestContext, contents: Record<string, string>): string {
  const w = tempDir("nginx-parse");
  t.after(() => w.remove());
  for (const [name, text] of Object.entries(contents)) {
    mkdirSync(path.dirname(path.join(w.dir, name)), { recursive: true });
    writeFileSync(path.join(w.dir, name), text);
  }
  return w.dir;
}

/** name, args and line of each directive, blocks nested. */
function shape(ds: NginxDirective[]): unknown[] {
  return ds.map((d) => [d.name, d.args, d.line, ...(d.block ? [shape(d.block)] : []), ...(d.unread ? [d.unread] : [])]);
}

test("words, quotes, escapes, comments and variables are read as nginx reads them, with their lines", (t) => {
  const dir = files(t, {
    "nginx.conf": `# a comment
server { # another
  listen 443 ssl;  server_name  example.com
      www.example.com;
  add_header X-Note "a \\"quoted\\" value; with {braces}" always;
  add_header X-Other 'single # not a comment';
  location ~ \\.php$ { return 404; }
  set $upstream_\${name} "x";
  log_format main '$remote_addr "$request"'
                  ' $status';
}
`,
  });
  assert.deepEqual(shape(readNginxConfig(path.join(dir, "nginx.conf"))), [
    [
      "server",
      [],
      2,
      [
        ["listen", ["443", "ssl"], 3],
        ["server_name", ["example.com", "www.example.com"], 3],
        ["add_header", ["X-Note", 'a "quoted" value; with {braces}', "always"], 5],
        ["add_header", ["X-Other", "single # not a comment"], 6],
        ["location", ["~", "\\.php$"], 7, [["return", ["404"], 7]]],
        ["set", ["$upstream_${name}", "x"], 8],
        ["log_format", ["main", '$remote_addr "$request"', " $status"], 9],
      ],
    ],
  ]);
});

test("a Lua block is kept as one argument, not read as directives", (t) => {
  const dir = files(t, { "nginx.conf": `location /t {\n  content_by_lua_block {\n    if x then ngx.say("}") end\n  }\n}\n` });
  const [location] = readNginxConfig(path.join(dir, "nginx.conf"));
  assert.equal(location!.block![0]!.name, "content_by_lua_block");
  assert.match(location!.block![0]!.args[0]!, /ngx\.say/);
});

test("includes are read in place, relative to the prefix, wildcards in name order; a missing file, a loop and a glob matching nothing are said or skipped as nginx would", (t) => {
  const dir = files(t, {
    "etc/nginx.conf": "http {\n  include conf.d/*.conf;\n  include missing.conf;\n  include none/*.conf;\n  include loop.conf;\n}\n",
    "etc/conf.d/b.conf": "server { server_name b; }\n",
    "etc/conf.d/a.conf": "server { server_name a; }\n",
    "etc/conf.d/skip.txt": "this is not included\n",
    "etc/loop.conf": "include loop.conf;\n",
  });
  const etc = path.join(dir, "etc");
  const [http] = readNginxConfig(path.join(etc, "nginx.conf"));
  assert.deepEqual(shape(http!.block!), [
    ["server", [], 1, [["server_name", ["a"], 1]]],
    ["server", [], 1, [["server_name", ["b"], 1]]],
    ["include", ["missing.conf"], 3, `${etc}/missing.conf does not exist here`],
    ["include", ["loop.conf"], 1, "it includes itself (through nginx.conf → loop.conf)"],
  ]);
  assert.deepEqual(http!.block!.map((d) => path.relative(etc, d.file)), ["conf.d/a.conf", "conf.d/b.conf", "nginx.conf", "loop.conf"]);
});

test("--map-path finds the files of an nginx that ran in a container", (t) => {
  const dir = files(t, { "services/nginx/nginx.conf": "include /etc/nginx/conf.d/*.conf;\n", "services/nginx/conf.d/site.conf": "server { server_name a; }\n" });
  const map = pathMap([["/etc/nginx", path.join(dir, "services/nginx")]]);
  assert.equal(map("/etc/nginx/conf.d/x.conf"), path.join(dir, "services/nginx/conf.d/x.conf"));
  assert.equal(map("/etc/nginxother/x"), "/etc/nginxother/x");
  assert.deepEqual(shape(readNginxConfig(path.join(dir, "services/nginx/nginx.conf"), { mapPath: map })), [["server", [], 1, [["server_name", ["a"], 1]]]]);
});

test("syntax errors name the file and line, and the command says nginx would refuse them too", async (t) => {
  const cases: [string, string][] = [
    ["server {\n  listen 80;\n", "nginx.conf:1: server { is not closed: a } is missing before the end of the file"],
    ["server {\n  listen 80\n}\n", 'nginx.conf:3: "listen" does not end with ; before }'],
    ["listen 80;\n}\n", "nginx.conf:2: unexpected }: no block is open here"],
    ['add_header X "open;\n', "nginx.conf:1: this double-quoted string is not closed"],
    ["listen 80", 'nginx.conf:1: "listen" does not end with ; or {'],
  ];
  for (const [text, message] of cases) {
    const dir = files(t, { "nginx.conf": text });
    assert.throws(() => readNginxConfig(path.join(dir, "nginx.conf")), (err: unknown) => err instanceof NginxSyntaxError && err.message === path.join(dir, message));
  }
  const dir = files(t, { "nginx.conf": cases[0]![0] });
  const run = await runPadlock(["import", "nginx", path.join(dir, "nginx.conf")]);
  assert.equal(run.code, 2);
  assert.equal(run.stderr, `padlock: ${path.join(dir, cases[0]![1])} (nginx -t would refuse this file too)\n`);
});
