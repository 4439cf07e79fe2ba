// `padlock import nginx` on the seed post's layout and three more realistic configs (several
// server blocks, includes, upstream blocks, WebSocket locations): each output passes the config
// checks start-up and `padlock doctor` run, translates what padlock can do the same way, and
// lists the rest with where and why.
import test from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { packageRoot } from "../../src/paths.js";
import { loadConfigFile } from "../../src/config/load.js";
import { checkConfigValid } from "../../src/doctor/checks/config-valid.js";
import { tempDir } from "../support/env.js";
import { runPadlock } from "../support/padlock-process.js";

const FIXTURES = path.join(packageRoot, "test", "import", "fixtures", "nginx");

/** Runs the import into a fresh folder; the folders named in `dirs` are made there first. */
async function translate(t: test.TestContext, fixture: string, args: (dir: string) => string[] = () => [], dirs: string[] = []) {
  const w = tempDir("nginx-import");
  t.after(() => w.remove());
  for (const d of dirs) mkdirSync(path.join(w.dir, d), { recursive: true });
  const output = path.join(w.dir, "padlock.yaml");
  const run = await runPadlock(["import", "nginx", path.join(FIXTURES, fixture), "-o", output, ...args(w.dir)]);
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stderr, new RegExp(`${output} passes padlock's config checks; next: padlock doctor --config ${output}\\n$`));
  const doctor = checkConfigValid(output);
  assert.equal(doctor.result.status, "ok", doctor.result.found);
  return { dir: w.dir, config: loadConfigFile(output), text: readFileSync(output, "utf8"), stderr: run.stderr };
}

/** The notes at the top of the file, one entry per note, continuation lines joined. */
function notes(text: string, heading: string): string[] {
  const lines = text.split("\n");
  const start = lines.indexOf(`# ${heading}`);
  if (start < 0) return [];
  const out: string[] = [];
  for (const line of lines.slice(start + 1)) {
    if (!line.startsWith("#   ")) break;
    if (line.startsWith("#     ")) out[out.length - 1] += " " + line.slice(6);
    else out.push(line.slice(4).replace(/^- /, ""));
  }
  return out;
}

test("the seed's nginx.conf: one site proxied to the app, the certbot import named, nothing left untranslated", async (t) => {
  const { config, text } = await translate(t, "seed.conf");
  assert.deepEqual(config, { ca: "letsencrypt", accept_terms: true, sites: [{ hosts: ["seed.example.com"], proxy: "http://web:5001" }] });
  assert.match(text, /# Certificates: nginx used certbot's\. Import them and certbot's account, so padlock orders nothing new:\n#   padlock import certbot \/etc\/letsencrypt --config padlock.yaml/);
  assert.deepEqual(notes(text, "NOT translated (do these another way, or drop them):"), []);
  const builtIn = notes(text, "Left out because padlock does it itself:").join("\n");
  for (const line of ["seed.conf:10", "seed.conf:30", "seed.conf:32", "seed.conf:33", "seed.conf:37", "seed.conf:38", "seed.conf:39", "seed.conf:40"]) assert.ok(builtIn.includes(`(${line})`), `${line} in\n${builtIn}`);
});

test("conf.d layout: the www twin becomes canonical: apex, HSTS and headers carry over, an upstream block becomes a list, WebSocket and prefix-stripping proxies become routes", async (t) => {
  const { dir, config, text } = await translate(t, "multi/nginx.conf", (d) => ["--map-path", `/srv/photos=${d}/photos`, "--email", "me@example.net"], ["photos/public", "photos/originals"]);
  assert.deepEqual(config, {
    ca: "letsencrypt",
    accept_terms: true,
    email: "me@example.net",
    sites: [
      {
        hosts: ["chat.example.net"],
        proxy: ["http://127.0.0.1:4000", "http://127.0.0.1:4001"],
        routes: [
          { path: "/socket/", proxy: ["http://127.0.0.1:4000", "http://127.0.0.1:4001"], timeout: 3600 },
          { path: "/api/", proxy: "http://127.0.0.1:4100/v2", timeout: 120 },
        ],
        max_body: "20mb",
      },
      {
        hosts: ["photos.example.net", "www.photos.example.net"],
        canonical: "apex",
        static: `${dir}/photos/public`,
        routes: [{ path: "/originals/", static: `${dir}/photos/originals` }],
        headers: { "X-Content-Type-Options": "nosniff" },
        hsts: { max_age: 63072000, include_subdomains: true },
      },
    ],
  });
  const untranslated = notes(text, "NOT translated (do these another way, or drop them):");
  assert.deepEqual(untranslated.map((n) => n.split(": ")[0]), ["nginx.conf:24", "nginx.conf:25", "nginx.conf:26", "nginx.conf:28", "nginx.conf:29", "conf.d/chat.conf:2", "conf.d/chat.conf:4", "conf.d/photos.conf:37"]);
  assert.ok(untranslated.includes("conf.d/photos.conf:37: location = /favicon.ico: padlock routes by path prefix; it has no exact-match locations"));
  const builtIn = notes(text, "Left out because padlock does it itself:").join("\n");
  assert.match(builtIn, /padlock answers names no site lists with 404 \(HTTP\) or 421 \(HTTPS\) itself: server _ that refuses every request \(conf.d\/00-default.conf:2\)/);
  assert.match(builtIn, /WebSocket upgrades pass through padlock as they are: map \$http_upgrade \(nginx.conf:31\); proxy_set_header Upgrade \$http_upgrade \(conf.d\/chat.conf:30\)/);
  assert.equal((builtIn.match(/snippets\/proxy-headers.conf:1/g) ?? []).length, 1, "a snippet included three times is noted once");
});

test("a home server's sites-enabled file: a folder with content/ and templates/ becomes a blog; password and address rules are left out rather than served to everyone", async (t) => {
  const { dir, config, text } = await translate(t, "debian/sites-enabled/home.conf", (d) => ["--prefix", path.join(FIXTURES, "debian"), "--map-path", `/var/www/example.org=${d}/blog`], ["blog/content", "blog/templates"]);
  assert.deepEqual(config.sites, [
    { hosts: ["example.org", "www.example.org"], blog: `${dir}/blog`, routes: [{ path: "/old-blog/", redirect: "https://blog.example.net" }] },
    { hosts: ["grafana.example.org"], proxy: "http://127.0.0.1:3000", routes: [{ path: "/api/live/", proxy: "http://127.0.0.1:3000" }] },
    { hosts: ["cloud.example.org"], proxy: "http://127.0.0.1:8080" },
  ]);
  const untranslated = notes(text, "NOT translated (do these another way, or drop them):");
  for (const expected of [
    "home.conf:8: return https://$server_name$request_uri for www.example.org, grafana.example.org, cloud.example.org, status.example.org: $server_name is the first name, so nginx sent these to https://example.org; padlock sends each name to HTTPS on the same name",
    "home.conf:33: return 302 /feed.xml: padlock's redirects keep the request's path (/feed… → TARGET/feed…): only return CODE https://host$request_uri translates",
    "home.conf:36: location ~ \\.php$: padlock routes by path prefix; it has no regular-expression locations",
    "home.conf:76: proxy_set_header X-Forwarded-Port 443: padlock sends no X-Forwarded-Port (X-Forwarded-Proto and X-Forwarded-Host say the same); this value is not kept",
    "home.conf:88: auth_basic status: padlock has no password protection, so location / is left out rather than served to everyone",
    "home.conf:91: deny all: padlock has no address rules, so location / is left out rather than served to everyone",
    "home.conf:81: server status.example.org: nothing in it could be translated into something to serve",
  ]) {
    assert.ok(untranslated.includes(expected), `${expected}\nnot in\n${untranslated.join("\n")}`);
  }
  assert.match(notes(text, "Left out because padlock does it itself:").join("\n"), /padlock sends HSTS over HTTPS itself \(one year, as here\): add_header Strict-Transport-Security max-age=31536000 always \(snippets\/tls.conf:8\)/);
});

test("nginx in a container, plain HTTP on port 8080: paths mapped to this machine, upstream without Host kept as the upstream's name, what changes said", async (t) => {
  const { dir, config, text } = await translate(t, "compose/default.conf", (d) => ["--map-path", `/usr/share/nginx/html=${d}/html`], ["html/assets"]);
  assert.deepEqual(config.sites, [
    {
      hosts: ["shop.example.com"],
      static: `${dir}/html`,
      routes: [
        { path: "/static/", static: `${dir}/html/assets` },
        { path: "/api/", proxy: ["http://app:3000", "http://app-2:3000"], preserve_host: false },
        { path: "/ws", proxy: ["http://app:3000", "http://app-2:3000"], preserve_host: false, timeout: 86400 },
      ],
    },
  ]);
  assert.match(text, /# from default.conf:9: server_name shop.example.com; listen 8080\n  # nginx served these names over plain HTTP only; padlock gets a certificate and redirects to HTTPS \(add http: serve to keep plain HTTP\)\n/);
  const untranslated = notes(text, "NOT translated (do these another way, or drop them):").join("\n");
  for (const expected of [
    "default.conf:9: listen 8080: padlock listens on http_port and https_port",
    "default.conf:32: rewrite ^/api/v0/(.*)$ /api/v1/$1 break: padlock has no rewrite rules",
    "default.conf:31: proxy_set_header X-Request-Id $request_id: padlock does not add request headers for the app",
    "default.conf:36: try_files $uri $uri/ /index.html: padlock serves the file or the folder's index.html, else 404; it has no fallbacks",
    "default.conf:6: backup in upstream app:",
    "default.conf:38: add_header Vary Accept-Encoding: Vary is set by padlock for each response (it describes that response or its connection), not in a site's headers:",
  ]) {
    assert.ok(untranslated.includes(expected), `${expected}\nnot in\n${untranslated}`);
  }
});

test("an output that needs fixing says so: a folder missing here is named with the line to fix, exit code 1", async (t) => {
  const w = tempDir("nginx-missing");
  t.after(() => w.remove());
  const conf = path.join(w.dir, "site.conf");
  writeFileSync(conf, "server {\n  listen 80;\n  server_name files.example.com;\n  root /nowhere/files;\n}\n");
  const run = await runPadlock(["import", "nginx", conf], { cwd: w.dir });
  assert.equal(run.code, 1);
  assert.match(run.stdout, /#   site.conf:4: \/nowhere\/files: this folder does not exist on this machine/);
  assert.match(run.stderr, /the padlock.yaml above has 1 problem to fix before padlock can start:\n.*padlock.yaml:\d+: sites\[0\].static: folder "\/nowhere\/files" does not exist/);
});
