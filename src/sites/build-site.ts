// Turns one site of the config into a SiteRuntime: its main handler (blog, static folder,
// proxy or redirect) behind its routes, matched by path prefix.
import path from "node:path";
import type { Route, Site } from "../config/schema.js";
import type { Logger } from "../log.js";
import { openBlog } from "../blog/blog.js";
import { StaticFolder } from "../server/static-files.js";
import { redirect, sendText, type Exchange, type Handler } from "../server/exchange.js";
import type { SiteRuntime } from "./site-runtime.js";

export interface BuildContext {
  /** Folder that relative paths in the config are relative to. */
  baseDir: string;
  log: Logger;
  watch?: boolean;
}

interface Part {
  handle: Handler;
  close?: () => Promise<void>;
}

export async function buildSite(site: Site, ctx: BuildContext): Promise<SiteRuntime> {
  const routes = site.routes ?? [];
  const namedRoutes = Object.fromEntries(routes.filter((r) => r.name).map((r) => [r.name!, r.path]));
  const parts: Part[] = [];

  const routeParts = await Promise.all(routes.map(async (route) => ({ route, part: await buildRoute(route, ctx) })));
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
  return {
    hosts: site.hosts,
    config: site,
    handle,
    close: async () => {
      await Promise.all(parts.map((p) => p.close?.()));
    },
  };
}

/** "/dp_sim/" matches "/dp_sim/…" and "/dp_sim"; "/api" matches "/api" and "/api/…". */
export function matchesPrefix(requestPath: string, prefix: string): boolean {
  if (requestPath === prefix) return true;
  const base = prefix.endsWith("/") ? prefix : prefix + "/";
  return requestPath.startsWith(base) || requestPath + "/" === base;
}

async function buildMain(site: Site, namedRoutes: Record<string, string>, ctx: BuildContext): Promise<Part | undefined> {
  if (site.blog !== undefined) {
    return openBlog({ dir: path.resolve(ctx.baseDir, site.blog), namedRoutes, log: ctx.log, watch: ctx.watch });
  }
  if (site.static !== undefined) return { handle: staticFolder(path.resolve(ctx.baseDir, site.static), "/") };
  if (site.redirect !== undefined) return { handle: redirectTo(site.redirect) };
  if (site.proxy !== undefined) return { handle: proxyPlaceholder() };
  return undefined;
}

async function buildRoute(route: Route, ctx: BuildContext): Promise<Part> {
  if (route.redirect !== undefined) return { handle: redirectTo(route.redirect) };
  if (route.static !== undefined) return { handle: staticFolder(path.resolve(ctx.baseDir, route.static), route.path) };
  return { handle: proxyPlaceholder() };
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

function proxyPlaceholder(): Handler {
  return (ex) => sendText(ex.res, 501, "Reverse proxy is not implemented yet.");
}
