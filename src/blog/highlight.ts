// Fenced code → the markup Python-Markdown's codehilite produces with line numbers (a table with
// the numbers in their own cell), highlighted by highlight.js with its token classes renamed to
// Pygments' short names, so Pygments-style stylesheets (ours at /pygments.css, or a site's own)
// colour it.
import hljs from "highlight.js/lib/common";
import dockerfile from "highlight.js/lib/languages/dockerfile";
import nginx from "highlight.js/lib/languages/nginx";
import http from "highlight.js/lib/languages/http";
import apache from "highlight.js/lib/languages/apache";
import powershell from "highlight.js/lib/languages/powershell";
import protobuf from "highlight.js/lib/languages/protobuf";

// The common set (~40 languages) plus what server-side blogs show often; loading all ~190
// languages would add ~60 ms to every start.
for (const [name, lang] of Object.entries({ dockerfile, nginx, http, apache, powershell, protobuf })) hljs.registerLanguage(name, lang);

// highlight.js scope (dots for sub-scopes) → Pygments short class. Longest match wins.
const PYGMENTS_CLASS: Record<string, string> = {
  keyword: "k",
  built_in: "nb",
  type: "kt",
  literal: "kc",
  number: "m",
  operator: "o",
  punctuation: "p",
  property: "py",
  regexp: "sr",
  string: "s",
  "char.escape": "se",
  subst: "si",
  symbol: "ss",
  class: "nc",
  function: "nf",
  title: "nf",
  "title.class": "nc",
  "title.class.inherited": "nc",
  "title.function": "nf",
  "title.function.invoke": "n",
  params: "n",
  comment: "c1",
  doctag: "sd",
  meta: "cp",
  "meta.keyword": "kp",
  "meta.string": "s",
  "meta.prompt": "gp",
  section: "nt",
  tag: "p",
  name: "nt",
  attr: "na",
  attribute: "nb",
  variable: "nv",
  "variable.language": "bp",
  "variable.constant": "no",
  "template-tag": "cp",
  "template-variable": "nv",
  bullet: "p",
  code: "sb",
  emphasis: "ge",
  strong: "gs",
  formula: "s",
  link: "nl",
  quote: "c1",
  "selector-tag": "nt",
  "selector-id": "nn",
  "selector-class": "nc",
  "selector-attr": "na",
  "selector-pseudo": "nd",
  addition: "gi",
  deletion: "gd",
};

/** highlight.js class list ("hljs-title class_ inherited__") → Pygments class ("nc"), or "". */
export function pygmentsClassOf(hljsClasses: string): string {
  const [first, ...subs] = hljsClasses.split(/\s+/);
  if (!first?.startsWith("hljs-")) return "";
  const parts = [first.slice(5), ...subs.map((s) => s.replace(/_+$/, ""))];
  for (let n = parts.length; n > 0; n--) {
    const cls = PYGMENTS_CLASS[parts.slice(0, n).join(".")];
    if (cls) return cls;
  }
  return "";
}

/** `<span class="hljs-…">` → the same span with the Pygments class, memoised (a few dozen distinct class lists). */
const spanByClasses = new Map<string, string>();
function pygmentsSpan(_match: string, hljsClasses: string): string {
  let span = spanByClasses.get(hljsClasses);
  if (span === undefined) {
    const mapped = pygmentsClassOf(hljsClasses);
    span = mapped ? `<span class="${mapped}">` : "<span>";
    spanByClasses.set(hljsClasses, span);
  }
  return span;
}

const ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

/** True when highlight.js knows the language (aliases such as sh, docker, html, text included). */
export function knowsLanguage(lang: string): boolean {
  return hljs.getLanguage(lang) !== undefined;
}

/**
 * The codehilite table for one code block. An empty or unknown language is plain text (as the
 * Flask site showed unlabelled blocks); the caller warns about unknown ones.
 */
export function highlightBlock(code: string, lang: string): string {
  const source = code.endsWith("\n") ? code : code + "\n";
  const lineCount = source.split("\n").length - 1;
  const highlighted =
    lang && knowsLanguage(lang) && !/^(text|plaintext|txt)$/i.test(lang)
      ? hljs.highlight(source, { language: lang, ignoreIllegals: true }).value.replace(/<span class="([^"]+)">/g, pygmentsSpan)
      : escapeHtml(source);

  const width = String(lineCount).length;
  const numbers: string[] = [];
  for (let i = 1; i <= lineCount; i++) numbers.push(`<span class="normal">${String(i).padStart(width)}</span>`);
  return (
    `<div class="codehilite"><table class="codehilitetable"><tr><td class="linenos"><div class="linenodiv"><pre>${numbers.join("\n")}</pre></div></td>` +
    `<td class="code"><div><pre><span></span><code>${highlighted}</code></pre></div></td></tr></table></div>\n`
  );
}
