// Markdown → HTML: CommonMark with GFM tables and strikethrough, raw HTML passed through
// (figures, <del>, …), fenced code highlighted as codehilite tables, and tables wrapped in a
// scrolling box so a wide one never widens the page.
import MarkdownIt from "markdown-it";
import { highlightBlock, knowsLanguage } from "./highlight.js";

export interface MarkdownEnv extends Record<string, unknown> {
  /** Called for a fence whose language highlight.js does not know; line is 0-based in the body. */
  onUnknownLanguage?: (lang: string, bodyLine: number) => void;
}

function createRenderer() {
  // "default" preset = CommonMark + GFM tables + strikethrough; no typographer, no linkify,
  // as Python-Markdown left quotes and bare URLs alone.
  const md = new MarkdownIt("default", { html: true, linkify: false, typographer: false });
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

export function renderMarkdown(source: string, env: MarkdownEnv = {}): string {
  return renderer.render(source, env as Record<string, unknown> as never);
}
