// Unit tests of the blog engine's parts: front matter, dates and tags; url_for; the markdown
// pre-pass; highlighting markup; Jinja compatibility of the templates; content negotiation.
import test from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { parsePage, parseDate, sortNewestFirst, type Page } from "../../src/blog/content.js";
import { ProblemList } from "../../src/blog/problems.js";
import { UrlBuilder, UnknownEndpointError } from "../../src/blog/url-for.js";
import { parseUrlForCall, resolveUrlFor } from "../../src/blog/prepass.js";
import { highlightBlock, pygmentsClassOf } from "../../src/blog/highlight.js";
import { normalizeLink, renderMarkdown } from "../../src/blog/markdown.js";
import MarkdownIt from "markdown-it";
import { Templates } from "../../src/blog/templates.js";
import { canonicalPath } from "../../src/blog/blog.js";
import { chooseEncoding, createEntity, ifNoneMatchMatches, parseAcceptEncoding } from "../../src/server/cached-entity.js";
import { tempDir } from "../support/env.js";

const parse = (text: string, rel = "posts/p.md") => {
  const problems = new ProblemList();
  return { page: parsePage(text, rel, `content/${rel}`, problems), problems: problems.items };
};

test("front matter between --- fences: fields, multi-line tags with a trailing comma, other keys in meta", () => {
  const { page, problems } = parse(`---
title: MP API bugfix today  
date: 2024-07-01 
description:
    Using Plotly with Flask and Flask-Flatpages
    to create charts
tags:
    [
        python,
        yes,
        2022,
        jQuery,
    ]
series: making-of
---


Body starts here.
`);
  assert.deepEqual(problems, []);
  assert.equal(page!.title, "MP API bugfix today");
  assert.equal(page!.date, "2024-07-01");
  assert.equal(page!.description, "Using Plotly with Flask and Flask-Flatpages to create charts");
  assert.deepEqual(page!.tags, ["python", "yes", "2022", "jQuery"], "YAML 1.1 coercions do not apply; tags stay as written");
  assert.equal(page!.meta.series, "making-of");
  assert.deepEqual(page!.meta.tags, page!.tags);
  assert.equal(page!.body, "Body starts here.\n");
  assert.equal(page!.bodyLine, 18);
  assert.equal(page!.name, "p");
  assert.equal(page!.path, "posts/p");
});

test("FlatPages-style front matter runs to the first blank line", () => {
  const { page } = parse("title: Tom's page\n\nAfter 9 years...\n", "about.md");
  assert.equal(page!.title, "Tom's page");
  assert.equal(page!.body, "After 9 years...\n");
  assert.equal(page!.isPost, false);
  assert.equal(page!.path, "about");
  const none = parse("# Just markdown\n\ntext\n", "notes.md").page!;
  assert.equal(none.title, "");
  assert.equal(none.body, "# Just markdown\n\ntext\n");
});

test("posts in sub-folders keep their file name as their name", () => {
  const { page } = parse("---\ntitle: x\n---\nbody\n", "posts/2024/deep.md");
  assert.equal(page!.name, "deep");
  assert.equal(page!.path, "posts/deep");
});

test("dates: unquoted, quoted, with time, short forms and nonsense", () => {
  assert.deepEqual(parseDate("2022-10-06"), { display: "2022-10-06", value: Date.UTC(2022, 9, 6) });
  assert.equal(parseDate("2022-10-6").display, "2022-10-06");
  assert.equal(parseDate("2022-10-06 12:30").display, "2022-10-06 12:30:00");
  assert.equal(parseDate("2022-02-30").value, undefined);
  assert.equal(parseDate("someday").display, "someday");
  assert.equal(parseDate(undefined).value, undefined);
  const pages = ["b:2022-08-29", "a:", "c:2024-07-01", "d:2022-08-29"].map((s) => {
    const [name, date] = s.split(":");
    return { name, dateValue: parseDate(date || undefined).value } as Page;
  });
  assert.deepEqual(sortNewestFirst(pages).map((p) => p.name), ["c", "b", "d", "a"]);
});

test("malformed front matter is an error at the right line", () => {
  const { page, problems } = parse("---\ntitle: ok\ntitle: twice\n---\nbody\n");
  assert.equal(page, undefined);
  assert.equal(problems[0]!.line, 3);
  assert.match(problems[0]!.message, /malformed front matter/);
});

test("url_for: built-in endpoints, named routes, Werkzeug-style quoting, single-slash static", () => {
  const urls = new UrlBuilder({ dp_sim: "/dp_sim/" });
  assert.equal(urls.build("index"), "/");
  assert.equal(urls.build("about"), "/about");
  assert.equal(urls.build("posts"), "/posts/");
  assert.equal(urls.build("pygments_css"), "/pygments.css");
  assert.equal(urls.build("post", { name: "making_of_1" }), "/posts/making_of_1/");
  assert.equal(urls.build("dp_sim"), "/dp_sim/");
  assert.equal(urls.build("static", { filename: "/assets/img/x.png" }), "/static/assets/img/x.png");
  assert.equal(urls.build("static", { filename: "bmg_tensile_bar@2x.png" }), "/static/bmg_tensile_bar@2x.png");
  const quoted: Record<string, string> = { "a b": "/tag/a%20b/", ü: "/tag/%C3%BC/", "a#b": "/tag/a%23b/", "a?b": "/tag/a%3Fb/", "a%b": "/tag/a%25b/", "<x>": "/tag/%3Cx%3E/", "a@&=+,:;'~b": "/tag/a@&=+,:;'~b/", "a/b": "/tag/a%2Fb/" };
  for (const [tag, url] of Object.entries(quoted)) assert.equal(urls.build("tag", { tag }), url, tag);
  assert.equal(urls.build("posts", { page: 2, _anchor: "top" }), "/posts/?page=2#top");
  assert.throws(() => urls.build("covid_graph"), UnknownEndpointError);
  assert.throws(() => urls.build("post", {}), /needs name=/);
});

test("canonicalPath finds pages however the client encoded the path", () => {
  assert.equal(canonicalPath("/posts/making%5Fof_1/"), "/posts/making_of_1/");
  assert.equal(canonicalPath("/tag/a b/"), "/tag/a%20b/");
  assert.equal(canonicalPath("/tag/%"), undefined);
  assert.equal(canonicalPath("/tag/%00/"), undefined);
});

test("the markdown pre-pass evaluates only url_for with literal arguments", () => {
  assert.deepEqual(parseUrlForCall(" url_for('post', name='x') "), { endpoint: "post", args: { name: "x" } });
  assert.deepEqual(parseUrlForCall(`url_for("static",filename="/a.png",)`), { endpoint: "static", args: { filename: "/a.png" } });
  for (const expr of ["7*7", "url_for(name)", "url_for('post', name=x)", "config.SECRET_KEY", "url_for('a') ~ 'b'", "''.__class__"]) {
    assert.equal(parseUrlForCall(expr), undefined, expr);
  }
  const problems = new ProblemList();
  const out = resolveUrlFor(
    "[a]({{ url_for('post', name='a&b') }}) {{ 7*7 }} {# note #}\n\n```\n{{ url_for('index') }}\n```\n",
    { urls: new UrlBuilder(), problems, file: "content/posts/x.md", firstLine: 5 },
  );
  assert.equal(out, "[a](/posts/a&amp;b/) {{ 7*7 }} {# note #}\n\n```\n{{ url_for('index') }}\n```\n");
  assert.deepEqual(
    problems.items.map((p) => `${p.line} ${p.severity}`),
    ["5 warning", "5 warning"],
  );
});

test("code blocks become codehilite tables with Pygments class names and right-aligned line numbers", () => {
  const html = highlightBlock("x = 1\n" + "y = 'a'\n".repeat(9), "python");
  assert.ok(html.startsWith('<div class="codehilite"><table class="codehilitetable"><tr><td class="linenos"><div class="linenodiv"><pre><span class="normal"> 1</span>\n'));
  assert.match(html, /<span class="normal">10<\/span><\/pre><\/div><\/td><td class="code"><div><pre><span><\/span><code>/);
  assert.match(html, /<span class="mi">|<span class="m">/);
  assert.match(html, /<span class="s">&#x27;a&#x27;<\/span>|<span class="s">&#39;a&#39;<\/span>/);
  assert.ok(html.endsWith("\n</code></pre></div></td></tr></table></div>\n"));
  assert.equal(pygmentsClassOf("hljs-title function_"), "nf");
  assert.equal(pygmentsClassOf("hljs-title class_ inherited__"), "nc");
  assert.equal(pygmentsClassOf("hljs-comment"), "c1");
  assert.equal(pygmentsClassOf("language-bash"), "");
  const plain = highlightBlock("<b>&</b>", "");
  assert.match(plain, /<code>&lt;b&gt;&amp;&lt;\/b&gt;\n<\/code>/);
});

test("markdown: GFM tables in a scroll box, strikethrough, raw HTML passes through verbatim", () => {
  const html = renderMarkdown("| a | b |\n|---|---|\n| 1 | 2 |\n\n~~gone~~\n\n<figure>\n<img src=\"/x.png\" class=\"med_2\">  \n<figcaption>Cap</figcaption>\n</figure>\n");
  assert.match(html, /<div class="table-scroll" style="overflow-x:auto">\n<table>/);
  assert.match(html, /<s>gone<\/s>/);
  assert.match(html, /<figure>\n<img src="\/x.png" class="med_2">  \n<figcaption>Cap<\/figcaption>\n<\/figure>/);
});

test("templates: Jinja's with (scoped, seen by includes), for…else, replace, length, autoescape", (context) => {
  const { dir, remove } = tempDir("tpl");
  context.after(remove);
  {
    fs.mkdirSync(path.join(dir, "templates"));
    fs.writeFileSync(
      path.join(dir, "templates", "t.html"),
      `{% with pages=items, n=items|length %}{% include "_l.html" %}{{ n }}{% endwith %}[{{ pages }}]`,
    );
    fs.writeFileSync(path.join(dir, "templates", "_l.html"), `{% for p in pages %}{{ p.path.replace('posts/', '') }},{% else %}none{% endfor %}`);
    const problems = new ProblemList();
    const t = new Templates(dir, new UrlBuilder(), problems);
    assert.equal(t.render("t.html", { items: [{ path: "posts/a" }, { path: "posts/<b>" }], pages: "outer" }), "a,&lt;b&gt;,2[outer]");
    assert.equal(t.render("t.html", { items: [], pages: "outer" }), "none0[outer]");
    assert.deepEqual(problems.items, []);
  }
});

test("Accept-Encoding negotiation and If-None-Match comparison", () => {
  assert.deepEqual(parseAcceptEncoding("gzip, deflate, br"), { br: 1, gzip: 1, identity: 0.001 });
  assert.equal(parseAcceptEncoding("br;q=0, *").br, 0);
  const entity = createEntity(Buffer.from("x".repeat(2000)), { contentType: "text/plain" });
  entity.compress();
  assert.equal(chooseEncoding("gzip, deflate, br", entity), "br");
  assert.equal(chooseEncoding("gzip", entity), "gzip");
  assert.equal(chooseEncoding("br;q=0.5, gzip;q=0.9", entity), "gzip");
  assert.equal(chooseEncoding("identity", entity), "identity");
  assert.equal(chooseEncoding("*;q=0, identity", entity), "identity");
  assert.equal(chooseEncoding(undefined, entity), "identity");
  const small = createEntity(Buffer.from("tiny"), { contentType: "text/plain" });
  small.compress();
  assert.equal(chooseEncoding("br", small), "identity");
  const tag = entity.etag;
  assert.ok(ifNoneMatchMatches(tag, tag));
  assert.ok(ifNoneMatchMatches(`"zzz", W/${tag.slice(0, -1)}-br"`, tag));
  assert.ok(ifNoneMatchMatches("*", tag));
  assert.ok(!ifNoneMatchMatches('"zzz"', tag));
});

test("template errors name the template that has them, even inside a layout or an include", (context) => {
  const { dir, remove } = tempDir("tpl");
  context.after(remove);
  {
    fs.mkdirSync(path.join(dir, "templates"));
    const w = (name: string, text: string) => fs.writeFileSync(path.join(dir, "templates", name), text);
    w("base.html", `<html>\n{% block head %}{% endblock %}\n<body>\n{% block body %}{% endblock %}\n{{ footer_text }}\n</body></html>\n`);
    w("page.html", `{% extends "base.html" %}\n{% block body %}\n{% include "_part.html" %}\n{% endblock %}\n`);
    w("_part.html", `<p>\n{{ url_for('app') }} {{ x | nosuchfilter }}\n</p>\n`);
    const problems = new ProblemList();
    const t = new Templates(dir, new UrlBuilder(), problems);
    assert.throws(() => t.render("page.html", { x: 1 }));
    assert.deepEqual(
      problems.items.map((p) => `${p.file}:${p.line}`),
      ["templates/_part.html:2", "templates/_part.html:2"],
      problems.items.map((p) => p.message).join("\n"),
    );
    w("_part.html", "<p>fine</p>\n");
    const t2 = new Templates(dir, new UrlBuilder(), problems);
    assert.throws(() => t2.render("page.html", {}));
    assert.equal(`${problems.items.at(-1)!.file}:${problems.items.at(-1)!.line}`, "templates/base.html:5");
  }
});

test("link targets: the shortcut for plain ones gives what markdown-it's normalizeLink gives", () => {
  const reference = new MarkdownIt().normalizeLink;
  const plain = ["/", "/posts/a_b-c/", "/static/img/x.png?v=1#top", "#section-2", "https://example.com", "http://example.com/1/2", "https://a-b.example.co.uk/p;q=1/(x)*y,z@w:v+u$t!s~r'"];
  const other = [
    "//host/path", "HTTPS://Example.COM/A", "https://example.com:8080/x", "https://user@example.com/", "https://example.com?x=1", "https://bücher.de/",
    "/caf%C3%A9", "/café", "/a b", "/a%zz", "mailto:me@example.com", "relative/path", "../up", "javascript:alert(1)",
    `https://${"a".repeat(64)}.com/`, `https://${"a.".repeat(130)}com/`, "https://a..b/", "https://a_b.com/", "/x\\y", "/[x]", "/{x}", "/<x>", "/x|y", "/x^y", "/`x`", '/"x"',
  ];
  for (const url of [...plain, ...other]) assert.equal(normalizeLink(url), reference(url), url);
  const html = renderMarkdown(plain.map((u, i) => `[${i}](${u})`).join(" ") + " [u](/café)");
  assert.match(html, /href="\/caf%C3%A9"/);
});
