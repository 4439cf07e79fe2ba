// Renders a whole blog into memory: every route's response (bytes, compressed variants,
// validators), plus what is needed to answer the rest on demand (unknown tags, the feed and
// sitemap per origin). A page that fails keeps its previous good version when there is one.
import fs from "node:fs";
import path from "node:path";
import YAML from "yaml";
import { createEntity, etagOf, type CachedEntity, type EntityOptions } from "../server/cached-entity.js";
import { safeRelativePath } from "../server/static-files.js";
import { defaultThemeDir } from "../paths.js";
import { listContentFiles, sortNewestFirst, withoutDuplicates, type Page } from "./content.js";
import { renderPages } from "./pages.js";
import { lineAt, ProblemList, type SiteProblem } from "./problems.js";
import { Templates, TemplateFailure } from "./templates.js";
import { UrlBuilder } from "./url-for.js";
import { atomFeed, sitemap, type FeedPost } from "./feed.js";

export const THEME_STATIC = path.join(defaultThemeDir, "static");
const PYGMENTS_CSS = path.join(defaultThemeDir, "pygments.css");
const HTML = "text/html; charset=utf-8";
/** Longest tag taken from a URL that is rendered; longer ones get the plain 404 page. */
const MAX_TAG_LENGTH = 200;

export interface RenderOptions {
  dir: string;
  namedRoutes: Record<string, string>;
  /** The generation being replaced (watch mode): failed pages fall back to it. */
  previous?: RenderedSite;
}

export interface SiteInfo {
  title: string;
  description: string;
  /** Whether content/about.md exists (the built-in theme links /about only then). */
  has_about: boolean;
  /** Whether pages get a link to /feed.xml in <head> (site.yaml `feed_link: false` turns it off). */
  feed_link: boolean;
}

export class RenderedSite {
  /** Milliseconds per phase (pages: front matter and markdown; templates), for the benchmark. */
  timings: Record<string, number> = {};

  constructor(
    /** Response per canonical path ("/", "/posts/", "/posts/a/", "/tag/python/", …). */
    readonly routes: Map<string, CachedEntity>,
    readonly notFound: CachedEntity,
    readonly problems: SiteProblem[],
    readonly renderedAt: Date,
    readonly durationMs: number,
    private readonly templates: Templates,
    private readonly info: SiteInfo,
    private readonly feedPosts: FeedPost[],
    private readonly sitemapPages: { url: string; dateValue?: number }[],
  ) {}

  /** The tag page for a tag no post has: the site's tags.html with no posts, status 404. */
  async unknownTagPage(tag: string): Promise<CachedEntity> {
    if (tag.length > MAX_TAG_LENGTH) return this.notFound;
    try {
      const html = this.templates.render("tags.html", { tag, pages: [], posts: [], site: this.info }, undefined, true);
      return createEntity(Buffer.from(withFeedLink(html, this.info)), { contentType: HTML, status: 404, compress: false });
    } catch {
      return this.notFound;
    }
  }

  feed(origin: string): string {
    return atomFeed({ origin, title: this.info.title, subtitle: this.info.description, posts: this.feedPosts, fallbackUpdated: this.renderedAt });
  }

  sitemap(origin: string): string {
    return sitemap(origin, this.sitemapPages);
  }
}

export async function renderSite(options: RenderOptions): Promise<RenderedSite> {
  const started = performance.now();
  const { dir } = options;
  const problems = new ProblemList();
  if (!fs.existsSync(path.join(dir, "content"))) {
    problems.error("content", 1, `the blog folder ${dir} has no content/ folder (markdown pages go in content/, posts in content/posts/)`);
  }
  const urls = new UrlBuilder(options.namedRoutes);
  const templates = new Templates(dir, urls, problems);
  // Content and markdown first: every page's html, whatever template shows it.
  const withHtml = withoutDuplicates(renderPages(listContentFiles(dir), options.namedRoutes, problems), problems);
  const pages = withHtml.map((p) => p.page);
  const rendered = new Map<Page, string>(withHtml.flatMap((p) => (p.html === undefined ? [] : [[p.page, p.html] as const])));
  const info = siteInfo(dir, pages, problems);
  const posts = sortNewestFirst(pages.filter((p) => p.isPost));
  checkLinks(dir, posts.concat(pages.filter((p) => p.path === "about")), rendered, problems);
  const timings: Record<string, number> = { pages: performance.now() - started };

  const view = (page: Page) => templatePage(page, rendered.get(page) ?? "", urls);
  const postViews = posts.map(view);
  // Each post's view is built once and shared by its own page, the index, /posts/ and its tags' pages.
  const viewOfPost = new Map(posts.map((post, i) => [post, postViews[i]!]));
  const common = { site: info, posts: postViews };
  const tags = tagIndex(posts);

  const htmlRoutes: { path: string; template: string; context: Record<string, unknown>; file?: string }[] = [
    { path: "/", template: "index.html", context: { ...common, pages: postViews } },
    { path: "/posts/", template: "posts.html", context: common },
  ];
  const about = pages.find((p) => p.path === "about");
  if (about) {
    const aboutView = view(about);
    htmlRoutes.push({ path: "/about", template: "about.html", context: { ...common, content: aboutView, page: aboutView }, file: about.file });
  }
  posts.forEach((post, i) => {
    const v = postViews[i]!;
    const path = urls.build("post", { name: post.name });
    htmlRoutes.push({ path, template: "post.html", context: { ...common, post: v, page: v }, file: post.file });
  });
  for (const [tag, tagged] of tags) {
    htmlRoutes.push({ path: urls.build("tag", { tag }), template: "tags.html", context: { ...common, tag, pages: tagged.map((post) => viewOfPost.get(post)!) } });
  }

  const previous = options.previous?.routes;
  // Unchanged bytes keep their entity: same Last-Modified, already compressed.
  const reuse = (routePath: string, bytes: Buffer, opts: EntityOptions): CachedEntity => {
    const old = previous?.get(routePath);
    if (old && old.status === (opts.status ?? 200) && old.etag === etagOf(bytes)) return old;
    return createEntity(bytes, opts);
  };

  const routes = new Map<string, CachedEntity>();
  for (const route of htmlRoutes) {
    try {
      const html = withFeedLink(templates.render(route.template, route.context, route.file), info);
      routes.set(route.path, reuse(route.path, Buffer.from(html), { contentType: HTML }));
    } catch (err) {
      if (!(err instanceof TemplateFailure)) throw err;
      routes.set(route.path, previous?.get(route.path) ?? failedPage());
    }
  }
  timings.templates = performance.now() - started - timings.pages!;
  routes.set("/pygments.css", reuse("/pygments.css", fs.readFileSync(PYGMENTS_CSS), { contentType: "text/css; charset=utf-8" }));

  let notFound: CachedEntity;
  try {
    const html = withFeedLink(templates.render("404.html", { ...common }), info);
    notFound = createEntity(Buffer.from(html), { contentType: HTML, status: 404 });
  } catch {
    notFound = createEntity(Buffer.from("Not found.\n"), { contentType: "text/plain; charset=utf-8", status: 404 });
  }

  const feedPosts: FeedPost[] = posts.map((p) => ({
    url: urls.build("post", { name: p.name }),
    title: p.title,
    description: p.description,
    dateValue: p.dateValue,
    tags: p.tags,
    html: rendered.get(p) ?? "",
  }));
  const sitemapPages = [
    { url: "/", dateValue: posts[0]?.dateValue },
    ...(about ? [{ url: "/about" }] : []),
    { url: "/posts/", dateValue: posts[0]?.dateValue },
    ...feedPosts.map((p) => ({ url: p.url, dateValue: p.dateValue })),
    ...[...tags.keys()].map((t) => ({ url: urls.build("tag", { tag: t }) })),
  ];
  const site = new RenderedSite(routes, notFound, problems.items, new Date(), performance.now() - started, templates, info, feedPosts, sitemapPages);
  site.timings = timings;
  return site;
}

function failedPage(): CachedEntity {
  return createEntity(Buffer.from("This page could not be rendered; the server log names the file and line to fix.\n"), {
    contentType: "text/plain; charset=utf-8",
    status: 500,
  });
}

/** What templates see as `post`, `page` or `content`: FlatPages' attributes (meta keys too). */
function templatePage(page: Page, html: string, urls: UrlBuilder): Record<string, unknown> {
  return {
    ...page.meta,
    path: page.path,
    name: page.name,
    title: page.title,
    date: page.date,
    description: page.description,
    tags: page.tags,
    meta: page.meta,
    html,
    body: page.body,
    url: page.isPost ? urls.build("post", { name: page.name }) : page.path === "about" ? "/about" : "",
  };
}

/** Tag → posts carrying it, newest first (the Flask site's order depended on the disk). */
function tagIndex(posts: Page[]): Map<string, Page[]> {
  const index = new Map<string, Page[]>();
  for (const post of posts) {
    for (const tag of new Set(post.tags)) {
      if (!index.has(tag)) index.set(tag, []);
      index.get(tag)!.push(post);
    }
  }
  return index;
}

/** Reports images under /static/ that do not exist and links to posts that do not exist. */
function checkLinks(dir: string, pages: Page[], rendered: Map<Page, string>, problems: ProblemList): void {
  const postNames = new Set(pages.filter((p) => p.isPost).map((p) => p.name));
  const staticRoots = [path.join(dir, "static"), THEME_STATIC];
  const exists = (urlPath: string) => {
    const rel = safeRelativePath(urlPath);
    return rel !== undefined && staticRoots.some((root) => fs.existsSync(path.join(root, rel)));
  };
  const lineOf = (page: Page, needle: string) => {
    const at = page.body.indexOf(needle);
    return at < 0 ? page.bodyLine : page.bodyLine + lineAt(page.body, at) - 1;
  };
  for (const page of pages) {
    const html = rendered.get(page) ?? "";
    const pageUrl = page.isPost ? `/posts/${page.name}/` : `/${page.path}`;
    for (const m of html.matchAll(/<(img|source|video|audio)\b[^>]*?\bsrc\s*=\s*["']([^"']+)["']/gi)) {
      const target = resolveLocal(m[2]!, pageUrl);
      if (target?.startsWith("/static/") && !exists(target.slice("/static/".length))) {
        const name = decodeSafe(target.slice(target.lastIndexOf("/") + 1));
        problems.error(page.file, lineOf(page, name), `image ${m[2]} does not exist (looked in static/${decodeSafe(target.slice(8))}); add the file or fix the path`);
      }
    }
    for (const m of html.matchAll(/<a\b[^>]*?\bhref\s*=\s*["']([^"']+)["']/gi)) {
      const target = resolveLocal(m[1]!, pageUrl);
      const post = target && /^\/posts\/([^/]+)\/$/.exec(target);
      if (post && !postNames.has(decodeSafe(post[1]!))) {
        problems.warning(page.file, lineOf(page, decodeSafe(post[1]!)), `link to ${target}, but there is no post named "${decodeSafe(post[1]!)}"`);
      }
    }
  }
}

/** A same-site path for a link or image, or undefined for other sites and schemes. */
function resolveLocal(ref: string, pageUrl: string): string | undefined {
  const href = ref.replace(/&amp;/g, "&");
  if (/^[a-z][a-z0-9+.-]*:/i.test(href) || href.startsWith("//") || href.startsWith("#")) return undefined;
  // Root-relative (nearly every link url_for makes): no URL parsing needed.
  if (href.startsWith("/") && !href.includes("/.")) return href.replace(/[?#].*$/, "").replace(/\/{2,}/g, "/");
  try {
    return new URL(href, `http://site${pageUrl}`).pathname.replace(/\/{2,}/g, "/");
  } catch {
    return undefined;
  }
}

function decodeSafe(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** Pages get a feed link in <head> when their templates do not have one, unless site.yaml says feed_link: false. */
function withFeedLink(html: string, info: SiteInfo): string {
  if (!info.feed_link || /application\/atom\+xml/i.test(html)) return html;
  const link = `<link rel="alternate" type="application/atom+xml" title="${info.title.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)}" href="/feed.xml">`;
  const at = html.search(/<\/head>/i);
  return at < 0 ? html : `${html.slice(0, at)}${link}\n${html.slice(at)}`;
}

/** Title and description for the feed and the built-in theme: site.yaml, else about.md's title, else the folder name. */
function siteInfo(dir: string, pages: Page[], problems: ProblemList): SiteInfo {
  const file = path.join(dir, "site.yaml");
  const hasAbout = pages.some((p) => p.path === "about");
  const fallback = { title: pages.find((p) => p.path === "about")?.title || path.basename(path.resolve(dir)), description: "", has_about: hasAbout, feed_link: true };
  if (!fs.existsSync(file)) return fallback;
  const text = fs.readFileSync(file, "utf8");
  const doc = YAML.parseDocument(text);
  if (doc.errors[0]) {
    problems.error("site.yaml", doc.errors[0].linePos?.[0].line ?? 1, doc.errors[0].message.split("\n")[0]!);
    return fallback;
  }
  const data = (doc.toJS() ?? {}) as Record<string, unknown>;
  if (data.feed_link !== undefined && typeof data.feed_link !== "boolean") {
    const node = doc.get("feed_link", true) as { range?: [number, number, number] } | undefined;
    problems.error("site.yaml", lineAt(text, node?.range?.[0] ?? 0), `feed_link: expected true or false, found ${JSON.stringify(data.feed_link)}; the feed link stays in <head>`);
  }
  return {
    title: typeof data.title === "string" ? data.title : fallback.title,
    description: typeof data.description === "string" ? data.description : "",
    has_about: hasAbout,
    feed_link: data.feed_link !== false,
  };
}
