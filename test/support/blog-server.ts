// Test support for the blog: padlock serving blogs in this process over plain HTTP, raw HTTP
// requests (paths sent exactly as given, unlike fetch), and HTML text extraction.
import http from "node:http";
import path from "node:path";
import { packageRoot } from "../../src/paths.js";
import type { Config } from "../../src/config/schema.js";
import { startPadlock, type RunningPadlock } from "./padlock-in-process.js";

/** ../shared beside the clone (CI puts it there too). */
const sharedDir = path.resolve(packageRoot, "../shared");
export const corpusSite = path.join(sharedDir, "corpus", "flask_site");
export const corpusRendered = path.join(sharedDir, "corpus", "flask_site_rendered");

export type RunningBlog = Omit<RunningPadlock, "httpsPort">;

/** padlock serving `config` over plain HTTP only (no HTTPS, so no certificates to store). */
export function startBlogServer(config: Config, options: { baseDir?: string; watch?: boolean } = {}): Promise<RunningBlog> {
  return startPadlock(config, { baseDir: options.baseDir ?? packageRoot, watch: options.watch, httpsPort: false });
}

/** One blog on 127.0.0.1 (and localhost), as `padlock serve --site DIR` sets it up. */
export function startBlog(dir: string, options: { routes?: Config["sites"][number]["routes"]; watch?: boolean } = {}): Promise<RunningBlog> {
  return startBlogServer({ sites: [{ hosts: ["127.0.0.1", "localhost"], blog: dir, default: true, routes: options.routes }] }, { watch: options.watch });
}

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  text: string;
}

/** A request whose path is sent byte for byte (no normalisation of "..", "%2e", "\\"). */
export function rawRequest(port: number, requestPath: string, options: { method?: string; headers?: Record<string, string> } = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port, path: requestPath, method: options.method ?? "GET", headers: options.headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const body = Buffer.concat(chunks);
        resolve({ status: res.statusCode!, headers: res.headers, body, text: body.toString("utf8") });
      });
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end();
  });
}

const ENTITIES: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'", nbsp: " " };

export function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (m, e: string) => {
    if (e[0] === "#") return String.fromCodePoint(e[1] === "x" || e[1] === "X" ? parseInt(e.slice(2), 16) : Number(e.slice(1)));
    return ENTITIES[e.toLowerCase()] ?? m;
  });
}

const INLINE_TAG = /<\/?(span|a|code|em|strong|b|i|s|del|small|sup|sub|abbr|kbd|mark|u)\b[^>]*>/gi;

/**
 * The visible text of a page: no head, scripts, styles or tags; entities decoded; whitespace
 * collapsed. Inline tags vanish without a space, so two highlighters that split a line into
 * different spans still give the same text.
 */
export function textContent(html: string): string {
  const body = html.replace(/<head[\s\S]*?<\/head>/gi, " ");
  return decodeEntities(
    body
      .replace(/<(script|style|noscript)[\s\S]*?<\/\1>/gi, " ")
      .replace(/<!--[\s\S]*?-->/g, " ")
      .replace(INLINE_TAG, "")
      .replace(/<[^>]+>/g, " "),
  )
    .replace(/\s+/g, " ")
    .trim();
}

/** Every href and src in the page, entity-decoded, in document order. */
export function linkTargets(html: string): { attr: string; url: string }[] {
  return [...html.matchAll(/\s(href|src)\s*=\s*(?:"([^"]*)"|'([^']*)')/gi)].map((m) => ({ attr: m[1]!.toLowerCase(), url: decodeEntities(m[2] ?? m[3] ?? "") }));
}
