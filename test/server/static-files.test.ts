// Static folders (a `static:` site, a `static:` route, and the blog's /static/): path traversal
// in every encoding, symlinks out of the root, ranges, validators, types and cache lifetimes.
import test, { after, before } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { exampleBlogDir } from "../../src/paths.js";
import { rawRequest, startBlogServer, type RunningBlog } from "../support/blog-server.js";
import { isFingerprinted, parseRange, safeRelativePath } from "../../src/server/static-files.js";
import { tempDir } from "../support/env.js";

const run = promisify(execFile);
const scratch = tempDir("static");
const tmp = scratch.dir;
let server: RunningBlog;
const SECRET = "top-secret-outside-the-root";

before(async () => {
  const root = path.join(tmp, "site");
  const outside = path.join(tmp, "outside");
  fs.mkdirSync(path.join(root, "sub"), { recursive: true });
  fs.mkdirSync(outside);
  fs.writeFileSync(path.join(outside, "passwd"), SECRET);
  fs.writeFileSync(path.join(root, "hello.txt"), "hello, world\n");
  fs.writeFileSync(path.join(root, "app.3f9a2b7c1d.js"), "console.log('fingerprinted');\n");
  fs.writeFileSync(path.join(root, "logo.png"), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
  fs.writeFileSync(path.join(root, "sub", "index.html"), "<p>index</p>\n");
  fs.writeFileSync(path.join(root, ".env"), SECRET);
  fs.symlinkSync(outside, path.join(root, "escape"));
  fs.symlinkSync(path.join(outside, "passwd"), path.join(root, "link.txt"));
  fs.symlinkSync(path.join(root, "hello.txt"), path.join(root, "inside-link.txt"));
  server = await startBlogServer({
    sites: [
      { hosts: ["static.test"], static: root },
      { hosts: ["127.0.0.1"], blog: exampleBlogDir, default: true, routes: [{ path: "/files/", static: root }] },
    ],
  });
});

after(async () => {
  await server.close();
  scratch.remove();
});

const onStaticSite = (p: string, headers: Record<string, string> = {}, method = "GET") => rawRequest(server.httpPort, p, { headers: { host: "static.test", ...headers }, method });

test("a static site serves files with their types, index.html for folders, and a slash redirect", async () => {
  const hello = await onStaticSite("/hello.txt");
  assert.equal(hello.status, 200);
  assert.equal(hello.text, "hello, world\n");
  assert.equal(hello.headers["content-type"], "text/plain; charset=utf-8");
  assert.equal(hello.headers["x-content-type-options"], "nosniff");
  assert.equal((await onStaticSite("/logo.png")).headers["content-type"], "image/png");
  assert.equal((await onStaticSite("/app.3f9a2b7c1d.js")).headers["content-type"], "text/javascript; charset=utf-8");
  const index = await onStaticSite("/sub/");
  assert.equal(index.text, "<p>index</p>\n");
  const redirect = await onStaticSite("/sub?q=1");
  assert.equal(redirect.status, 308);
  assert.equal(redirect.headers.location, "/sub/?q=1");
  assert.equal((await onStaticSite("/missing.txt")).status, 404);
  const head = await onStaticSite("/hello.txt", {}, "HEAD");
  assert.equal(head.headers["content-length"], "13");
  assert.equal(head.body.length, 0);
  assert.equal((await onStaticSite("/hello.txt", {}, "POST")).status, 405);
});

test("only fingerprinted names are cached long; others revalidate", async () => {
  assert.equal((await onStaticSite("/app.3f9a2b7c1d.js")).headers["cache-control"], "public, max-age=31536000, immutable");
  assert.equal((await onStaticSite("/hello.txt")).headers["cache-control"], "no-cache");
});

test("fingerprints are recognised, dates in names are not", () => {
  assert.ok(isFingerprinted("app.3f9a2b7c1d.js"));
  assert.ok(isFingerprinted("main-8c1e2f3a.css"));
  assert.ok(!isFingerprinted("photo-20240101.jpg"));
  assert.ok(!isFingerprinted("main.css"));
  assert.ok(!isFingerprinted("bmg_tensile_bar@2x.png"));
});

test("conditional requests: ETag and Last-Modified give 304", async () => {
  const first = await onStaticSite("/hello.txt");
  assert.equal((await onStaticSite("/hello.txt", { "if-none-match": first.headers.etag! })).status, 304);
  assert.equal((await onStaticSite("/hello.txt", { "if-modified-since": first.headers["last-modified"]! })).status, 304);
  assert.equal((await onStaticSite("/hello.txt", { "if-none-match": '"other"' })).status, 200);
});

test("single ranges give 206, unsatisfiable ones 416, a stale If-Range the whole file", async () => {
  const part = await onStaticSite("/hello.txt", { range: "bytes=0-4" });
  assert.equal(part.status, 206);
  assert.equal(part.text, "hello");
  assert.equal(part.headers["content-range"], "bytes 0-4/13");
  const suffix = await onStaticSite("/hello.txt", { range: "bytes=-6" });
  assert.equal(suffix.text, "world\n");
  const open = await onStaticSite("/hello.txt", { range: "bytes=7-" });
  assert.equal(open.text, "world\n");
  const beyond = await onStaticSite("/hello.txt", { range: "bytes=100-" });
  assert.equal(beyond.status, 416);
  assert.equal(beyond.headers["content-range"], "bytes */13");
  const several = await onStaticSite("/hello.txt", { range: "bytes=0-1,3-4" });
  assert.equal(several.status, 200);
  const stale = await onStaticSite("/hello.txt", { range: "bytes=0-4", "if-range": '"old-etag"' });
  assert.equal(stale.status, 200);
  assert.equal(stale.text, "hello, world\n");
  // And through curl, as a download tool would ask.
  const { stdout } = await run("curl", ["-sS", "-r", "7-11", "-H", "Host: static.test", `http://127.0.0.1:${server.httpPort}/hello.txt`]);
  assert.equal(stdout, "world");
});

const TRAVERSALS = [
  "/../../../../etc/passwd",
  "/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
  "/%2E%2E%2F%2E%2E%2Fetc%2Fpasswd",
  "/%252e%252e/%252e%252e/etc/passwd",
  "/..%5c..%5c..%5cetc%5cpasswd",
  "/..\\..\\..\\etc\\passwd",
  "/hello.txt%00.png",
  "/escape/passwd",
  "/link.txt",
  "/.env",
  "/sub/../../outside/passwd",
  "/%2e%2e/outside/passwd",
];

test("no path traversal on a static site: dot segments in any encoding, backslashes, NUL, symlinks, dot-files", async () => {
  for (const p of TRAVERSALS) {
    const res = await onStaticSite(p);
    assert.ok(res.status === 404 || res.status === 400, `${p}: ${res.status}`);
    assert.ok(!res.text.includes(SECRET) && !res.text.includes("root:"), `${p} leaked a file`);
  }
  // A symlink that stays inside the root is fine.
  assert.equal((await onStaticSite("/inside-link.txt")).text, "hello, world\n");
});

test("no path traversal through a static route or the blog's /static/", async () => {
  for (const prefix of ["/files", "/static"]) {
    for (const p of TRAVERSALS) {
      const res = await rawRequest(server.httpPort, prefix + p);
      assert.ok(res.status === 404 || res.status === 400, `${prefix}${p}: ${res.status}`);
      assert.ok(!res.text.includes(SECRET) && !res.text.includes("root:"), `${prefix}${p} leaked a file`);
    }
  }
  assert.equal((await rawRequest(server.httpPort, "/files/hello.txt")).text, "hello, world\n");
  assert.equal((await rawRequest(server.httpPort, "/static//img/padlock.svg")).status, 200, "doubled slashes (Flask's /static//x) still find the file");
});

test("safeRelativePath decodes once and refuses anything that could leave the folder", () => {
  assert.equal(safeRelativePath("img/a%20b.png"), "img/a b.png");
  assert.equal(safeRelativePath("//img//a.png"), "img/a.png");
  assert.equal(safeRelativePath("%252e%252e/x"), "%2e%2e/x");
  for (const bad of ["../x", "%2e%2e/x", "a/%2E%2E/%2E%2E/x", "a\\b", "a%5cb", "a%00b", ".git/config", "%", "%E0%A4%A"]) {
    assert.equal(safeRelativePath(bad), undefined, bad);
  }
});

test("parseRange follows RFC 9110 for one range", () => {
  assert.deepEqual(parseRange("bytes=0-0", 10), [0, 0]);
  assert.deepEqual(parseRange("bytes=5-100", 10), [5, 9]);
  assert.deepEqual(parseRange("bytes=-100", 10), [0, 9]);
  assert.equal(parseRange("bytes=10-", 10), "unsatisfiable");
  assert.equal(parseRange("bytes=-0", 10), "unsatisfiable");
  assert.equal(parseRange("bytes=5-2", 10), undefined);
  assert.equal(parseRange("items=0-1", 10), undefined);
});
