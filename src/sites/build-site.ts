// Turns one site of the config into a SiteRuntime: its main handler (blog, static folder,
// proxy or redirect) behind its routes, matched by path prefix. The blog engine and the proxy
// are imported only when a site uses them: each takes a noticeable part of start-up to load.
import path from "node:path";
import type { Route, Site } from "../config/schema.js";
import type { Logger } from "../log.js";
import { StaticFolder } from "../server/static-files.js";
import { redirect, sendText, type Exchange, type Handler, type UpgradeHandler } from "../server/exchange.js";
import { parseSize } from "../config/size.js";
import { definedOnly } from "../config/defined-only.js";
import type { SiteRuntime } from "../server/site-runtime.js";

export interface BuildContext {
  /** Folder that relative paths in the config are relative to. */
  baseDir: string;
  log: Logger;
  watch?: boolean;
}

interface Part {
  handle: Handler;
  upgrade?: UpgradeHandler;
  close?: () => Promise<void>;
}

/** Upstream response timeout when the config sets none, in seconds. */
const DEFAULT_PROXY_TIMEOUT_S = 60;

export async function buildSite(site: Site, ctx: BuildContext): Promise<SiteRuntime> {
  const routes = site.routes ?? [];
  const namedRoutes = Object.fromEntries(routes.filter((r) => r.name).map((r) => [r.name!, r.path]));
  const parts: Part[] = [];

  const routeParts = await Promise.all(routes.map(async (route) => ({ route, part: await buildRoute(route, site, ctx) })));
  parts.push(...routeParts.map((r) => r.part));
  const main = await buildMain(site, namedRoutes, ctx);
  if (main) parts.push(main);

  const handle: Handler = (ex) => {
    for (const { route, part } of routeParts) {
      if (matchesPrefix(ex.path, route.path)) return part.handle(ex);
    }
    if (main) return main.handle(ex);
    sendText(ex.res, 404, "Not found.");
  };
  const upgradable = main?.upgrade !== undefined || routeParts.some((r) => r.part.upgrade);
  const upgrade: UpgradeHandler | undefined = !upgradable
    ? undefined
    : (ex) => {
        const { part } = routeParts.find((r) => matchesPrefix(ex.path, r.route.path)) ?? { part: main };
        if (part?.upgrade) return part.upgrade(ex);
        ex.status = 404;
        ex.socket.end("HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
      };
  return {
    hosts: site.hosts,
    config: site,
    handle,
    upgrade,
    close: async () => {
      await Promise.all(parts.map((p) => p.close?.()));
    },
  };
}

/** "/dp_sim/" matches "/dp_sim/…" and "/dp_sim"; "/api" matches "/api" and "/api/…". */
export function matchesPrefix(requestPath: string, prefix: string): boolean {
  // Runs for every route on every request: compares in place rather than building "prefix/".
  if (prefix.charCodeAt(prefix.length - 1) === SLASH) {
    return requestPath.startsWith(prefix) || (requestPath.length === prefix.length - 1 && prefix.startsWith(requestPath));
  }
  return requestPath.startsWith(prefix) && (requestPath.length === prefix.length || requestPath.charCodeAt(prefix.length) === SLASH);
}

const SLASH = 0x2f;

async function buildMain(site: Site, namedRoutes: Record<string, string>, ctx: BuildContext): Promise<Part | undefined> {
  if (site.blog !== undefined) {
    const { openBlog } = await import("../blog/blog.js");
    return openBlog({ dir: path.resolve(ctx.baseDir, site.blog), namedRoutes, log: ctx.log, watch: ctx.watch });
  }
  if (site.static !== undefined) return { handle: staticFolder(path.resolve(ctx.baseDir, site.static), "/") };
  if (site.redirect !== undefined) return { handle: redirectTo(site.redirect) };
  if (site.proxy !== undefined) return proxyPart(site.proxy, site, ctx);
  return undefined;
}

async function buildRoute(route: Route, site: Site, ctx: BuildContext): Promise<Part> {
  if (route.redirect !== undefined) return { handle: redirectTo(route.redirect) };
  if (route.static !== undefined) return { handle: staticFolder(path.resolve(ctx.baseDir, route.static), route.path) };
  const inherited = { preserve_host: site.preserve_host, timeout: site.timeout, max_body: site.max_body };
  return proxyPart(route.proxy!, { ...inherited, ...definedOnly(route) }, ctx);
}

/** A proxy to one or more upstreams; a route's options fall back to the site's, then the defaults. */
async function proxyPart(upstreams: string | string[], options: Pick<Route, "preserve_host" | "timeout" | "max_body">, ctx: BuildContext): Promise<Part> {
  const { createProxy } = await import("../proxy/proxy-handler.js");
  const maxBody = options.max_body === undefined ? undefined : parseSize(options.max_body);
  return createProxy({
    upstreams: Array.isArray(upstreams) ? upstreams : [upstreams],
    preserveHost: options.preserve_host ?? true,
    timeoutMs: (options.timeout ?? DEFAULT_PROXY_TIMEOUT_S) * 1000,
    maxBody,
    log: ctx.log,
  });
}

function redirectTo(target: string): Handler {
  const base = target.replace(/\/$/, "");
  return (ex: Exchange) => redirect(ex, `${base}${ex.path}${ex.search}`, 308);
}

/** A folder served under a path prefix; "/docs" redirects to "/docs/" so relative links work. */
function staticFolder(root: string, prefix: string): Handler {
  const folder = new StaticFolder(root, { index: true });
  const base = prefix.endsWith("/") ? prefix : prefix + "/";
  return async (ex) => {
    if (ex.path + "/" === base) return redirect(ex, `${base}${ex.search}`, 308);
    if ((await folder.serve(ex, ex.path.slice(base.length))) === "not-found") sendText(ex.res, 404, "Not found.");
  };
}
