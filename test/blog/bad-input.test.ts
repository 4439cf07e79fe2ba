// Broken blog files are reported with file and line, at start and on reload with --watch, and
// the rest of the site is still served (a broken page keeps its last good version on reload).
import test, { after, before } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { rawRequest, startBlog, type RunningBlog } from "../support/blog-server.js";
import type { LogLine } from "../support/padlock-in-process.js";
import { tempDir, waitFor } from "../support/env.js";

const scratch = tempDir("bad-blog");
const dir = scratch.dir;
let blog: RunningBlog;

const write = (rel: string, text: string) => {
  fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
  fs.writeFileSync(path.join(dir, rel), text);
};
const post = (title: string, body: string, extra = "") => `---\ntitle: ${title}\ndate: 2024-01-02\ntags: [t]\n${extra}---\n\n${body}\n`;

function problem(logs: LogLine[], file: string, pattern: RegExp): LogLine {
  const found = logs.find((l) => l.file === file && pattern.test(l.msg));
  assert.ok(found, `no log for ${file} matching ${pattern}; got:\n${logs.filter((l) => l.file).map((l) => l.msg).join("\n")}`);
  return found;
}

before(async () => {
  write("static/ok.png", "png");
  write("content/posts/good.md", post("Good post", `![ok]({{ url_for('static', filename='ok.png') }})`));
  // Line 4: the flow sequence is never closed.
  write("content/posts/bad-yaml.md", "---\ntitle: Broken\ndate: 2024-01-01\ntags: [a, b\ndescription: x\n---\n\nBody\n");
  // Body line 9 of the file.
  write("content/posts/missing-image.md", post("Missing image", `Text.\n\n<img src="{{ url_for('static', filename='/img/nope.png') }}" alt="">`));
  write("content/posts/dup.md", post("First dup", "one"));
  write("content/posts/older/dup.md", post("Second dup", "two"));
  write("content/posts/unknown-endpoint.md", post("Endpoint", "See [x]({{ url_for('no_such_endpoint') }})."));
  write("content/posts/quoted-date.md", `---\ntitle: Quoted date\ndate: "2023-05-06"\n---\n\nFine.\n`);
  write("content/posts/bad-date.md", `---\ntitle: Bad date\ndate: someday\n---\n\nFine.\n`);
  // Line 3 prints a variable that does not exist.
  write("templates/posts.html", `{% extends "layout.html" %}\n{% block body %}\n<p>{{ no_such_variable }}</p>\n{% endblock %}\n`);
  // Line 2 has a syntax error.
  write("templates/tags.html", `{% extends "layout.html" %}\n{% block body %}{% if %}{% endblock %}\n`);
  blog = await startBlog(dir, { watch: true });
});

after(async () => {
  await blog.close();
  scratch.remove();
});

test("malformed front matter is reported at its line and that page is not served", async () => {
  const log = problem(blog.logs, "content/posts/bad-yaml.md", /malformed front matter/);
  assert.equal(log.line, 5);
  assert.equal(log.level, 50);
  assert.match(log.msg, /content\/posts\/bad-yaml\.md:5: /);
  assert.equal((await rawRequest(blog.httpPort, "/posts/bad-yaml/")).status, 404);
});

test("an unknown template variable is reported with the template's file and line; that page alone fails", async () => {
  const log = problem(blog.logs, "templates/posts.html", /does not exist/);
  assert.equal(log.line, 3);
  assert.equal((await rawRequest(blog.httpPort, "/posts/")).status, 500);
});

test("a template syntax error is reported with file and line", async () => {
  const log = problem(blog.logs, "templates/tags.html", /.+/);
  assert.equal(log.line, 2);
  assert.equal((await rawRequest(blog.httpPort, "/tag/t/")).status, 500);
});

test("a missing image is reported at the line that references it; the page is still served", async () => {
  const log = problem(blog.logs, "content/posts/missing-image.md", /image \/static\/img\/nope\.png does not exist/);
  assert.equal(log.line, 9);
  assert.equal((await rawRequest(blog.httpPort, "/posts/missing-image/")).status, 200);
});

test("two posts with the same name are reported; the first keeps the URL", async () => {
  const log = problem(blog.logs, "content/posts/older/dup.md", /post name "dup" is already used by content\/posts\/dup\.md/);
  assert.equal(log.line, 1);
  assert.match((await rawRequest(blog.httpPort, "/posts/dup/")).text, /First dup/);
});

test("an unknown url_for endpoint in markdown is reported and rendered as a dead link", async () => {
  const log = problem(blog.logs, "content/posts/unknown-endpoint.md", /url_for\('no_such_endpoint'\): no such endpoint/);
  assert.equal(log.line, 7);
  assert.match((await rawRequest(blog.httpPort, "/posts/unknown-endpoint/")).text, /<a href="#">x<\/a>/);
});

test("quoted and unparseable dates never crash anything; undated posts sort last", async () => {
  problem(blog.logs, "content/posts/bad-date.md", /date "someday" is not a date/);
  const feed = (await rawRequest(blog.httpPort, "/feed.xml")).text;
  const order = ["/posts/good/", "/posts/quoted-date/", "/posts/bad-date/"].map((u) => feed.indexOf(u));
  assert.ok(order[0]! < order[1]! && order[1]! < order[2]!, `feed order ${order}`);
});

test("the rest of the site is served", async () => {
  assert.equal((await rawRequest(blog.httpPort, "/")).status, 200);
  assert.match((await rawRequest(blog.httpPort, "/posts/good/")).text, /src="\/static\/ok.png"/);
  assert.equal((await rawRequest(blog.httpPort, "/static/ok.png")).status, 200);
});

test("--watch: a fix is picked up; a new break is reported and the last good page kept", async () => {
  const before = blog.logs.length;
  write("templates/posts.html", `{% extends "layout.html" %}\n{% block body %}\n<p>fixed list</p>\n{% endblock %}\n`);
  await waitFor("the fixed /posts/ page", async () => {
    const res = await rawRequest(blog.httpPort, "/posts/");
    return res.status === 200 && res.text.includes("fixed list") ? true : undefined;
  });

  // Break the post template: posts keep their previous rendering, the error names file:line.
  write("content/posts/good.md", post("Good post, edited", "new body"));
  await waitFor("the edited post", async () => ((await rawRequest(blog.httpPort, "/posts/good/")).text.includes("Good post, edited") ? true : undefined));
  write("templates/post.html", `{% extends "layout.html" %}\n{% block body %}\n{{ post.nonexistent_field }}\n{% endblock %}\n`);
  const log = await waitFor("the template error on reload", () => blog.logs.slice(before).find((l) => l.file === "templates/post.html"));
  assert.equal(log.line, 3);
  const kept = await rawRequest(blog.httpPort, "/posts/good/");
  assert.equal(kept.status, 200);
  assert.match(kept.text, /Good post, edited/);

  // A new post appears.
  fs.rmSync(path.join(dir, "templates", "post.html"));
  write("content/posts/brand-new.md", post("Brand new", "hello"));
  await waitFor("the new post", async () => ((await rawRequest(blog.httpPort, "/posts/brand-new/")).status === 200 ? true : undefined));
});
