// A blog folder served from memory: rendered at start (and on change with watch), answered by
// route lookup. Static files come from the site's static/ (then the built-in theme's).
import fs from "node:fs";
import path from "node:path";
import type { Exchange, Handler } from "../server/exchange.js";
import { redirect, sendText } from "../server/exchange.js";
import { compressInBackground, createEntity, sendEntity, type CachedEntity } from "../server/cached-entity.js";
import { StaticFolder } from "../server/static-files.js";
import type { Logger } from "../log.js";
import { ConfigError } from "../config/problems.js";
import { renderSite, THEME_STATIC, type RenderedSite } from "./render.js";
import { formatSiteProblem } from "./problems.js";
import { encodePathSegment } from "./url-for.js";
import { plural } from "../plural.js";

export interface BlogOptions {
  dir: string;
  /** Endpoints a site names in its config (route name → path), usable in url_for. */
  namedRoutes: Record<string, string>;
  log: Logger;
  watch?: boolean;
}

export interface Blog {
  handle: Handler;
  close(): Promise<void>;
  /** Render again now (watch mode does this on change); resolves when the new pages are live. */
  reload(): Promise<void>;
}

const ALLOW = "GET, HEAD";
/** Feed and sitemap carry absolute URLs, so they are cached per origin; this many at most. */
const MAX_ORIGINS = 16;
/** Editors write files in bursts (temp file, rename, chmod): wait for quiet before re-rendering. */
const WATCH_SETTLE_MS = 80;

export async function openBlog(options: BlogOptions): Promise<Blog> {
  const stat = fs.statSync(options.dir, { throwIfNoEntry: false });
  if (!stat?.isDirectory() || !fs.existsSync(path.join(options.dir, "content"))) {
    const what = !stat ? "does not exist" : !stat.isDirectory() ? "is not a folder" : "has no content/ folder";
    throw new ConfigError([
      { file: options.dir, line: 1, key: "blog", message: `the blog folder ${what}; a blog folder holds content/ (markdown pages, posts in content/posts/) and optionally templates/ and static/` },
    ]);
  }
  const blog = new BlogSite(options);
  await blog.reload();
  if (options.watch) blog.watch();
  return blog;
}

class BlogSite implements Blog {
  private site!: RenderedSite;
  private readonly siteStatic: StaticFolder;
  private readonly themeStatic = new StaticFolder(THEME_STATIC);
  private originCache = new Map<string, CachedEntity>();
  private watcher?: fs.FSWatcher;
  private timer?: NodeJS.Timeout;
  private rendering?: Promise<void>;
  private again = false;
  private compressing?: Promise<void>;
  private closed = false;

  constructor(private readonly options: BlogOptions) {
    this.siteStatic = new StaticFolder(path.join(options.dir, "static"));
  }

  readonly handle: Handler = (ex) => {
    const method = ex.req.method;
    if (method !== "GET" && method !== "HEAD") {
      sendText(ex.res, 405, "Method not allowed.", { allow: ALLOW });
      return;
    }
    const site = this.site;
    const entity = site.routes.get(ex.path);
    if (entity) return sendEntity(ex, entity);
    return this.handleSlow(ex, site);
  };

  private async handleSlow(ex: Exchange, site: RenderedSite): Promise<void> {
    const p = ex.path;
    if (p.startsWith("/static/")) {
      const rest = p.slice("/static/".length);
      if ((await this.siteStatic.serve(ex, rest)) === "sent") return;
      if ((await this.themeStatic.serve(ex, rest)) === "sent") return;
      return sendEntity(ex, site.notFound);
    }
    if (p === "/feed.xml" || p === "/sitemap.xml") return sendEntity(ex, await this.perOrigin(ex, site, p));

    const canonical = canonicalPath(p);
    if (canonical === undefined) return sendEntity(ex, site.notFound);
    const entity = site.routes.get(canonical);
    if (entity) return sendEntity(ex, entity);

    const tag = /^\/tag\/([^/]+)\/$/.exec(canonical);
    if (tag) return sendEntity(ex, await site.unknownTagPage(decodeURIComponent(tag[1]!)));
    // As Flask: a route without its trailing slash redirects to it (relative, so the scheme stays).
    if (/^\/(posts|posts\/[^/]+|tag\/[^/]+)$/.test(canonical)) {
      return redirect(ex, `${p}/${ex.search}`, 308);
    }
    return sendEntity(ex, site.notFound);
  }

  private async perOrigin(ex: Exchange, site: RenderedSite, which: "/feed.xml" | "/sitemap.xml"): Promise<CachedEntity> {
    // The address the reader used: behind a trusted proxy that ended TLS, the one it reported.
    const authority = ex.client.host;
    const host = /^[a-z0-9.\-:[\]]+$/i.test(authority) ? authority.toLowerCase() : ex.host;
    const origin = `${ex.client.proto === "https" ? "https" : "http"}://${host}`;
    const key = `${which} ${origin}`;
    const cached = this.originCache.get(key);
    if (cached) return cached;
    const body = which === "/feed.xml" ? site.feed(origin) : site.sitemap(origin);
    const type = which === "/feed.xml" ? "application/atom+xml; charset=utf-8" : "application/xml; charset=utf-8";
    const entity = createEntity(Buffer.from(body), { contentType: type, lastModified: site.renderedAt });
    if (this.site === site && this.originCache.size < MAX_ORIGINS) this.originCache.set(key, entity);
    return entity;
  }

  /** Renders the whole site and swaps it in at once; concurrent requests see old or new, never a mix. */
  reload(): Promise<void> {
    if (this.rendering) {
      this.again = true;
      return this.rendering;
    }
    this.rendering = (async () => {
      do {
        this.again = false;
        await this.renderOnce();
      } while (this.again);
    })().finally(() => (this.rendering = undefined));
    return this.rendering;
  }

  private async renderOnce(): Promise<void> {
    const { log, dir, namedRoutes } = this.options;
    const previous = this.site as RenderedSite | undefined;
    let next: RenderedSite;
    try {
      next = await renderSite({ dir, namedRoutes, previous });
    } catch (err) {
      // Problems in the site's files are reported by renderSite itself; this is anything else.
      if (!previous) throw err;
      log.error({ err, dir }, `re-rendering ${dir} failed; still serving the previous pages`);
      return;
    }
    for (const problem of next.problems) {
      const text = formatSiteProblem(problem);
      const located = path.join(path.basename(path.resolve(dir)), text);
      if (problem.severity === "error") log.error({ blog: dir, file: problem.file, line: problem.line }, located);
      else log.warn({ blog: dir, file: problem.file, line: problem.line }, located);
    }
    this.site = next;
    this.originCache = new Map();
    const generation = next;
    this.compressing = compressInBackground([...next.routes.values(), next.notFound], () => this.closed || this.site !== generation).catch((err: unknown) => log.error({ err }, "compressing pages failed"));
    const errors = next.problems.filter((p) => p.severity === "error").length;
    log.info(
      { blog: dir, pages: next.routes.size, ms: Math.round(next.durationMs) },
      `${previous ? "re-rendered" : "rendered"} ${next.routes.size} pages of ${dir} in ${Math.round(next.durationMs)} ms${errors ? ` (${plural(errors, "problem")}, see above)` : ""}`,
    );
  }

  watch(): void {
    const { dir, log } = this.options;
    try {
      this.watcher = fs.watch(dir, { recursive: true }, (_event, file) => {
        if (file && /(^|[/\\])\.|~$|\.swp$/.test(String(file))) return; // editor temp files
        clearTimeout(this.timer);
        this.timer = setTimeout(() => {
          this.reload().catch((err: unknown) => log.error({ err }, "re-render failed"));
        }, WATCH_SETTLE_MS);
      });
      this.watcher.on("error", (err) => log.error({ err, dir }, `watching ${dir} failed; changes will not be picked up`));
      log.info(`watching ${dir} for changes`);
    } catch (err) {
      log.error({ err, dir }, `cannot watch ${dir}: ${(err as Error).message}`);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    this.watcher?.close();
    await this.rendering?.catch(() => {});
    await this.compressing;
  }
}

/**
 * The path with each segment percent-encoded the way url_for writes it, so /posts/a%5Fb/ and
 * /tag/a b/ find the pages rendered as /posts/a_b/ and /tag/a%20b/. Undefined for malformed
 * encoding or NUL.
 */
export function canonicalPath(raw: string): string | undefined {
  try {
    const segments = raw.split("/").map((s) => decodeURIComponent(s));
    if (segments.some((s) => s.includes("\0"))) return undefined;
    return segments.map(encodePathSegment).join("/");
  } catch {
    return undefined;
  }
}
