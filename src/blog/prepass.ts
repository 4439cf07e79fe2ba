// The template pre-pass over a markdown body. Flask runs the whole body through Jinja; we
// evaluate only `{{ url_for('endpoint', key='literal', ...) }}` with string/number literal
// arguments, which is everything posts use it for. Anything else in {{ }} / {% %} / {# #} stays
// as text and is reported. Fenced code blocks are left alone entirely (Flask would evaluate
// them too): a post showing template code shows it as written.
// So a post can never run code, and nothing from a request ever reaches an evaluator.
import type { ProblemList } from "./problems.js";
import { lineAt } from "./problems.js";
import { escapeHtml } from "./highlight.js";
import type { UrlBuilder } from "./url-for.js";

export interface PrepassContext {
  urls: UrlBuilder;
  problems: ProblemList;
  file: string;
  /** Line of the file where the body starts. */
  firstLine: number;
}

const TEMPLATE_SYNTAX = /\{\{([\s\S]*?)\}\}|\{%[\s\S]*?%\}|\{#[\s\S]*?#\}/g;

export function resolveUrlFor(body: string, ctx: PrepassContext): string {
  const codeRanges = fencedCodeRanges(body);
  const inCode = (offset: number) => codeRanges.some(([a, b]) => offset >= a && offset < b);
  return body.replace(TEMPLATE_SYNTAX, (match, expression: string | undefined, offset: number) => {
    if (inCode(offset)) return match;
    const line = ctx.firstLine + lineAt(body, offset) - 1;
    const call = expression === undefined ? undefined : parseUrlForCall(expression);
    if (!call) {
      ctx.problems.warning(ctx.file, line, `${match.length > 60 ? match.slice(0, 57) + "..." : match} is left as text: in markdown only {{ url_for(...) }} with literal arguments is evaluated`);
      return match;
    }
    try {
      // Jinja autoescapes the result; the URL lands in markdown or in an HTML attribute.
      return escapeHtml(ctx.urls.build(call.endpoint, call.args));
    } catch (err) {
      ctx.problems.error(ctx.file, line, `${(err as Error).message}; the link is left empty ("#")`);
      return "#";
    }
  });
}

interface UrlForCall {
  endpoint: string;
  args: Record<string, string>;
}

/** `url_for('post', name='x')` → { endpoint: "post", args: { name: "x" } }; undefined for anything else. */
export function parseUrlForCall(expression: string): UrlForCall | undefined {
  const m = /^\s*url_for\s*\(([\s\S]*)\)\s*$/.exec(expression);
  if (!m) return undefined;
  const tokens = tokenize(m[1]!);
  if (!tokens) return undefined;
  const first = tokens.shift();
  if (first?.kind !== "literal") return undefined;
  const args: Record<string, string> = {};
  while (tokens.length) {
    if (tokens.shift()?.kind !== "comma") return undefined;
    if (tokens.length === 0) break; // trailing comma
    const name = tokens.shift();
    const eq = tokens.shift();
    const value = tokens.shift();
    if (name?.kind !== "name" || eq?.kind !== "equals" || value?.kind !== "literal") return undefined;
    args[name.text] = value.text;
  }
  return { endpoint: first.text, args };
}

type Token = { kind: "literal" | "name" | "comma" | "equals"; text: string };

function tokenize(source: string): Token[] | undefined {
  const tokens: Token[] = [];
  const re = /\s*(?:'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)"|(-?\d+(?:\.\d+)?)|([A-Za-z_]\w*)|(,)|(=))/y;
  let pos = 0;
  while (pos < source.length) {
    if (/^\s*$/.test(source.slice(pos))) break;
    re.lastIndex = pos;
    const m = re.exec(source);
    if (!m) return undefined;
    pos = re.lastIndex;
    if (m[1] !== undefined || m[2] !== undefined) tokens.push({ kind: "literal", text: (m[1] ?? m[2]!).replace(/\\(.)/g, "$1") });
    else if (m[3] !== undefined) tokens.push({ kind: "literal", text: m[3] });
    else if (m[4] !== undefined) tokens.push({ kind: "name", text: m[4] });
    else if (m[5] !== undefined) tokens.push({ kind: "comma", text: "," });
    else tokens.push({ kind: "equals", text: "=" });
  }
  return tokens;
}

/** [start, end) offsets of fenced code blocks (``` or ~~~), where template-like text is an example. */
function fencedCodeRanges(body: string): [number, number][] {
  const ranges: [number, number][] = [];
  const fence = /^ {0,3}(`{3,}|~{3,})[^\n]*$/gm;
  let open: { marker: string; start: number } | undefined;
  for (let m = fence.exec(body); m; m = fence.exec(body)) {
    const marker = m[1]!;
    if (!open) open = { marker, start: m.index };
    else if (marker[0] === open.marker[0] && marker.length >= open.marker.length && m[0].trim() === marker) {
      ranges.push([open.start, m.index + m[0].length]);
      open = undefined;
    }
  }
  if (open) ranges.push([open.start, body.length]);
  return ranges;
}
