// The bundled example blog through the real CLI (no arguments), and the HTTP behaviour of
// rendered pages: validators, 304, content negotiation, redirects, 404/405, feed and sitemap.
import test, { after, before } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import zlib from "node:zlib";
import { packageRoot } from "../../src/paths.js";
import { linkTargets, rawRequest } from "../support/blog-server.js";
import { tempDir } from "../support/env.js";
import { runPadlock, spawnPadlock, type PadlockProcess } from "../support/padlock-process.js";

const run = promisify(execFile);
let padlock: PadlockProcess;
let port: number;
let base: string;
const data = tempDir("serving-data");

before(async () => {
  // Ports 0: the CLI logs the ports it got. Its default storage (the internal CA for localhost's
  // HTTPS) goes to a temp folder, not the user's home.
  padlock = spawnPadlock(["--http-port", "0", "--https-port", "0", "--listen", "127.0.0.1", "--log-format", "json"], { cwd: packageRoot, env: { XDG_DATA_HOME: data.dir } });
  port = (await padlock.serving()).httpPort;
  base = `http://127.0.0.1:${port}`;
});

after(async () => {
  await padlock.stop();
  data.remove();
});

test("with no arguments, padlock serves the bundled example blog and says so", async () => {
  assert.match(padlock.output(), /serving the bundled example blog/);
  const res = await fetch(base + "/");
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-type"), "text/html; charset=utf-8");
  const html = await res.text();
  assert.match(html, /<meta charset="utf-8">/);
  assert.match(html, /<link rel="alternate" type="application\/atom\+xml"/);
  assert.match(html, /The padlock example blog/);
});

test("every link and image of the example blog resolves", async () => {
  const queue = ["/", "/posts/", "/about"];
  const seen = new Set(queue);
  const failures: string[] = [];
  while (queue.length) {
    const url = queue.shift()!;
    const res = await fetch(base + url);
    if (res.status !== 200) failures.push(`${url}: ${res.status}`);
    if (!res.headers.get("content-type")?.startsWith("text/html")) {
      await res.arrayBuffer();
      continue;
    }
    for (const { url: ref } of linkTargets(await res.text())) {
      const target = new URL(ref, base + url);
      if (target.origin === base && !seen.has(target.pathname)) {
        seen.add(target.pathname);
        queue.push(target.pathname);
      }
    }
  }
  assert.deepEqual(failures, []);
  for (const must of ["/posts/highlighted-code/", "/posts/a-wide-table/", "/posts/figures-and-captions/", "/tag/padlock/", "/static/img/renewal.svg", "/feed.xml", "/pygments.css"]) {
    assert.ok(seen.has(must), `${must} is linked from the blog`);
  }
});

test("a post has its own title, highlighted code with line numbers, a scrolling table and figures", async () => {
  const code = await (await fetch(base + "/posts/highlighted-code/")).text();
  assert.match(code, /<title>Highlighted code with line numbers · The padlock example blog<\/title>/);
  assert.match(code, /<td class="linenos"><div class="linenodiv"><pre><span class="normal"> 1<\/span>/);
  assert.match(code, /<span class="k">def<\/span> <span class="nf">fibonacci<\/span>/);
  assert.match(code, /This line is not highlighted, and neither is \{\{ this \}\}/, "code blocks are shown as written");
  const table = await (await fetch(base + "/posts/a-wide-table/")).text();
  assert.match(table, /<div class="table-scroll" style="overflow-x:auto">\s*<table>/);
  assert.match(table, /<s>strikethrough<\/s>/);
  const figures = await (await fetch(base + "/posts/figures-and-captions/")).text();
  assert.match(figures, /<figcaption>Figure 1\./);
  assert.match(figures, /src="\/static\/img\/renewal.svg"/, "a leading slash in filename gives one slash");
});

test("rendered pages carry a strong ETag and Last-Modified, and answer 304 to either validator", async () => {
  const first = await rawRequest(port, "/posts/welcome/");
  const etag = first.headers.etag!;
  const lastModified = first.headers["last-modified"]!;
  assert.match(etag, /^"[A-Za-z0-9_-]+"$/);
  assert.equal(first.headers["cache-control"], "no-cache");
  const byEtag = await rawRequest(port, "/posts/welcome/", { headers: { "if-none-match": etag } });
  assert.equal(byEtag.status, 304);
  assert.equal(byEtag.body.length, 0);
  assert.equal(byEtag.headers.etag, etag);
  const byDate = await rawRequest(port, "/posts/welcome/", { headers: { "if-modified-since": lastModified } });
  assert.equal(byDate.status, 304);
  const stale = await rawRequest(port, "/posts/welcome/", { headers: { "if-none-match": '"something-else"' } });
  assert.equal(stale.status, 200);
});

test("Accept-Encoding picks brotli, then gzip, else identity, with Vary (checked with curl)", async () => {
  const br = await rawRequest(port, "/posts/highlighted-code/", { headers: { "accept-encoding": "gzip, deflate, br" } });
  assert.equal(br.headers["content-encoding"], "br");
  assert.equal(br.headers.vary, "Accept-Encoding");
  const plain = await rawRequest(port, "/posts/highlighted-code/");
  assert.equal(plain.headers["content-encoding"], undefined);
  assert.equal(zlib.brotliDecompressSync(br.body).toString(), plain.text);
  const gz = await rawRequest(port, "/posts/highlighted-code/", { headers: { "accept-encoding": "gzip;q=1, br;q=0" } });
  assert.equal(gz.headers["content-encoding"], "gzip");
  assert.equal(zlib.gunzipSync(gz.body).toString(), plain.text);
  assert.notEqual(gz.headers.etag, plain.headers.etag, "each encoding has its own strong ETag");
  const revalidate = await rawRequest(port, "/posts/highlighted-code/", { headers: { "accept-encoding": "gzip", "if-none-match": gz.headers.etag! } });
  assert.equal(revalidate.status, 304);

  const { stdout } = await run("curl", ["-sS", "--compressed", "-D", "-", "-o", "/dev/null", `${base}/posts/highlighted-code/`]);
  assert.match(stdout, /content-encoding: (br|gzip)/i);
  const head = await run("curl", ["-sS", "-I", `${base}/posts/highlighted-code/`]);
  assert.match(head.stdout, /^HTTP\/1\.1 200/);
  assert.match(head.stdout, new RegExp(`content-length: ${plain.body.length}`, "i"));
});

test("Flask's URL rules: /posts redirects, /about/ is 404, POST is 405 with Allow", async () => {
  const posts = await rawRequest(port, "/posts?x=1");
  assert.equal(posts.status, 308);
  assert.equal(posts.headers.location, "/posts/?x=1");
  const post = await rawRequest(port, "/posts/welcome");
  assert.equal(post.status, 308);
  assert.equal(post.headers.location, "/posts/welcome/");
  assert.equal((await rawRequest(port, "/about/")).status, 404);
  const postMethod = await rawRequest(port, "/posts/", { method: "POST" });
  assert.equal(postMethod.status, 405);
  assert.equal(postMethod.headers.allow, "GET, HEAD");
});

test("the 404 page uses the site's layout; an unknown tag is a 404 tag page with the tag escaped", async () => {
  const missing = await rawRequest(port, "/no/such/page");
  assert.equal(missing.status, 404);
  assert.match(missing.text, /class="site-header"/);
  const tag = await rawRequest(port, "/tag/%3Cscript%3Ealert(1)%3C%2Fscript%3E%7B%7B7*7%7D%7D/");
  assert.equal(tag.status, 404);
  assert.match(tag.text, /&lt;script&gt;alert\(1\)&lt;\/script&gt;\{\{7\*7\}\}/);
  assert.doesNotMatch(tag.text, /<script>alert/);
  assert.doesNotMatch(tag.text, /49/);
  const known = await rawRequest(port, "/tag/padlock/");
  assert.equal(known.status, 200);
  assert.match(known.text, /Welcome to your new blog/);
});

test("Atom feed and sitemap use the request's origin", async () => {
  const feed = await rawRequest(port, "/feed.xml", { headers: { host: "blog.example:8443" } });
  assert.equal(feed.status, 200);
  assert.equal(feed.headers["content-type"], "application/atom+xml; charset=utf-8");
  assert.match(feed.text, /<feed xmlns="http:\/\/www.w3.org\/2005\/Atom">/);
  assert.match(feed.text, /<id>http:\/\/blog.example:8443\/posts\/figures-and-captions\/<\/id>/);
  // Newest first.
  assert.ok(feed.text.indexOf("figures-and-captions") < feed.text.indexOf("/posts/welcome/"));
  const sitemap = await rawRequest(port, "/sitemap.xml");
  assert.match(sitemap.text, new RegExp(`<loc>http://127.0.0.1:${port}/posts/welcome/</loc><lastmod>2026-01-05</lastmod>`));
});

test("malformed requests never crash the server", async () => {
  for (const p of ["/%", "/posts/%E0%A4%A/", "/tag/%00/", "/static/%", "/" + "a".repeat(4000)]) {
    const res = await rawRequest(port, p);
    assert.ok(res.status === 404 || res.status === 400, `${p}: ${res.status}`);
  }
  assert.equal((await fetch(base + "/")).status, 200);
});

test("--site with a folder that is not a blog stops start-up with a clear message and exit code 2", async () => {
  const result = await runPadlock(["serve", "--site", "/nonexistent-blog", "--http-port", "0"]);
  assert.equal(result.code, 2);
  assert.match(result.stderr, /\/nonexistent-blog:1: blog: the blog folder does not exist/);
  assert.doesNotMatch(result.stderr, /\n\s+at /, "no stack trace");
});
