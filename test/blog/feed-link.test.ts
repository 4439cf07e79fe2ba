// padlock adds a link to /feed.xml to the <head> of a blog's own layout (browsers and feed
// readers find the feed by it) unless the layout has one; site.yaml `feed_link: false` turns it off.
import test from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { tempDir } from "../support/env.js";
import { rawRequest, startBlog } from "../support/blog-server.js";

const FEED_LINK = '<link rel="alternate" type="application/atom+xml" title="Feed test" href="/feed.xml">';

function blogFolder(t: test.TestContext, siteYaml: string): string {
  const work = tempDir("feed-link");
  t.after(() => work.remove());
  const write = (rel: string, text: string) => {
    fs.mkdirSync(path.dirname(path.join(work.dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(work.dir, rel), text);
  };
  write("site.yaml", siteYaml);
  write("templates/layout.html", "<!doctype html>\n<html><head><title>Own layout</title></head>\n<body>{% block content %}{% endblock %}</body></html>\n");
  write("content/posts/one.md", "---\ntitle: One\ndate: 2024-01-02\n---\n\nText.\n");
  return work.dir;
}

test("the blog's own layout gets the feed link in <head>", async (t) => {
  const blog = await startBlog(blogFolder(t, "title: Feed test\n"));
  t.after(() => blog.close());
  const page = await rawRequest(blog.httpPort, "/posts/one/");
  assert.equal(page.status, 200);
  assert.ok(page.text.includes(`${FEED_LINK}\n</head>`), page.text);
});

test("site.yaml feed_link: false leaves the layout as it is", async (t) => {
  const blog = await startBlog(blogFolder(t, "title: Feed test\nfeed_link: false\n"));
  t.after(() => blog.close());
  const page = await rawRequest(blog.httpPort, "/posts/one/");
  assert.equal(page.status, 200);
  assert.doesNotMatch(page.text, /atom\+xml/);
  assert.equal((await rawRequest(blog.httpPort, "/feed.xml")).status, 200, "the feed itself is still served");
});

test("feed_link that is not true or false is reported at its line in site.yaml", async (t) => {
  const blog = await startBlog(blogFolder(t, "title: Feed test\nfeed_link: no\n"));
  t.after(() => blog.close());
  const problem = blog.logs.find((l) => l.file === "site.yaml");
  assert.ok(problem, "a problem is logged");
  assert.equal(problem.line, 2);
  assert.ok(problem.msg.endsWith('site.yaml:2: feed_link: expected true or false, found "no"; the feed link stays in <head>'), problem.msg);
  assert.ok((await rawRequest(blog.httpPort, "/posts/one/")).text.includes(FEED_LINK));
});
