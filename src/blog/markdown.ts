// Markdown → HTML: CommonMark with GFM tables and strikethrough, raw HTML passed through
// (figures, <del>, …), fenced code highlighted as codehilite tables, and tables wrapped in a
// scrolling box so a wide one never widens the page.
import MarkdownIt from "markdown-it";
import { highlightBlock, knowsLanguage } from "./highlight.js";

export interface MarkdownEnv extends Record<string, unknown> {
  /** Called for a fence whose language highlight.js does not know; line is 0-based in the body. */
  onUnknownLanguage?: (lang: string, bodyLine: number) => void;
}

/**
 * Link targets markdown-it's normalizeLink (mdurl parse, punycode, format, percent-encode) gives
 * back unchanged: a root-relative path, a fragment, or an http(s) URL with a plain ASCII host
 * (labels of at most 63, a host of at most 255 characters, no port or user), made only of
 * characters it never encodes and without "%". Nearly every link in a blog is one of these, and
 * normalizeLink costs more than the rest of rendering the link in a fresh process.
 */
const KEPT_AS_IS =
  /^(?:\/(?!\/)|#|https?:\/\/(?=[^/]{1,255}(?:\/|$))(?:[A-Za-z0-9-]{1,63}\.)*[A-Za-z0-9-]{1,63}(?:\/|$))[A-Za-z0-9;/?:@&=+$,\-_.!~*'()#]*$/;

function createRenderer() {
  // "default" preset = CommonMark + GFM tables + strikethrough; no typographer, no linkify,
  // as Python-Markdown left quotes and bare URLs alone.
  const md = new MarkdownIt("default", { html: true, linkify: false, typographer: false });
  const normalizeLink = md.normalizeLink;
  md.normalizeLink = (url) => (KEPT_AS_IS.test(url) ? url : normalizeLink(url));
  md.renderer.rules.fence = (tokens, idx, _options, env?: Record<string, unknown>) => {
    const token = tokens[idx]!;
    const lang = token.info.trim().split(/\s+/)[0] ?? "";
    if (lang && !knowsLanguage(lang)) (env as MarkdownEnv | undefined)?.onUnknownLanguage?.(lang, token.map?.[0] ?? 0);
    return highlightBlock(token.content, lang);
  };
  md.renderer.rules.table_open = () => '<div class="table-scroll" style="overflow-x:auto">\n<table>\n';
  md.renderer.rules.table_close = () => "</table>\n</div>\n";
  return md;
}

const renderer = createRenderer();

/** The link target as it lands in href/src (exported for the test that checks the shortcut). */
export function normalizeLink(url: string): string {
  return renderer.normalizeLink(url);
}

export function renderMarkdown(source: string, env: MarkdownEnv = {}): string {
  return renderer.render(source, env as Record<string, unknown> as never);
}
