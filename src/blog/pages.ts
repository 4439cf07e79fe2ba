// Content files → pages with their HTML (front matter, the url_for pre-pass, markdown): most of
// a render's work. (Spreading it over worker threads was measured: each worker pays the JIT
// warm-up of yaml/markdown-it/highlight.js again, and on a busy 2-core machine it was slower.)
import { readPage, type ContentFile, type Page } from "./content.js";
import { renderMarkdown } from "./markdown.js";
import { resolveUrlFor } from "./prepass.js";
import type { ProblemList } from "./problems.js";
import { UrlBuilder } from "./url-for.js";

export interface PageWithHtml {
  page: Page;
  /** The body as HTML, for posts and about (the pages that show a body). */
  html: string | undefined;
}

export function renderPages(files: ContentFile[], namedRoutes: Record<string, string>, problems: ProblemList): PageWithHtml[] {
  const urls = new UrlBuilder(namedRoutes);
  const out: PageWithHtml[] = [];
  for (const f of files) {
    const page = readPage(f, problems);
    if (!page) continue;
    out.push({ page, html: page.isPost || page.path === "about" ? pageHtml(page, urls, problems) : undefined });
  }
  return out;
}

/** Pre-pass (url_for) then markdown; problems located in the content file. */
function pageHtml(page: Page, urls: UrlBuilder, problems: ProblemList): string {
  const body = resolveUrlFor(page.body, { urls, problems, file: page.file, firstLine: page.bodyLine });
  return renderMarkdown(body, {
    onUnknownLanguage: (lang, line) => problems.warning(page.file, page.bodyLine + line, `code block language "${lang}" is not known to the highlighter; shown as plain text`),
  });
}
