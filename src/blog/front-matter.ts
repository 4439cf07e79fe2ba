// A page's front matter (YAML, core schema) → its keys and values, with the line of each key for
// messages. Nearly every blog writes front matter as one-line `key: value` pairs (plain or
// quoted scalars, `[a, b]` tag lists); those are read here directly, giving exactly what the
// yaml package gives. Anything else — nested or multi-line values, comments after values,
// anchors, block scalars, escapes, odd number forms, errors — goes to the yaml package. This is
// for start-up time: the yaml package costs ~0.5 ms per page in a fresh process (its code has not
// been optimised yet by then), which is a quarter of rendering a 1,000-post blog.
import YAML, { isMap, isScalar, type Document } from "yaml";
import { lineAt } from "./problems.js";

export type FrontMatter =
  | { meta: Record<string, unknown>; /** 1-based line in the YAML text of each key. */ keyLines: Map<string, number> }
  | { error: string; /** 1-based line in the YAML text. */ line: number };

export function parseFrontMatter(yaml: string): FrontMatter {
  return parseSimpleFrontMatter(yaml) ?? parseWithYamlPackage(yaml);
}

function parseWithYamlPackage(yaml: string): FrontMatter {
  const doc = YAML.parseDocument(yaml, { schema: "core", uniqueKeys: true });
  const err = doc.errors[0];
  if (err) {
    return { error: `malformed front matter: ${err.message.split("\n")[0]!.replace(/ at line \d+, column \d+:?$/, "")}`, line: err.linePos?.[0].line ?? 1 };
  }
  if (!isMap(doc.contents)) return { error: "malformed front matter: expected `key: value` lines (title, date, description, tags)", line: 1 };
  return { meta: doc.toJS() as Record<string, unknown>, keyLines: keyLinesOf(doc, yaml) };
}

function keyLinesOf(doc: Document, yaml: string): Map<string, number> {
  const lines = new Map<string, number>();
  if (!isMap(doc.contents)) return lines;
  for (const item of doc.contents.items) {
    if (isScalar(item.key) && typeof item.key.value === "string" && item.key.range && !lines.has(item.key.value)) {
      lines.set(item.key.value, lineAt(yaml, item.key.range[0]));
    }
  }
  return lines;
}

// The core schema's tests (yaml/dist/schema/core and common/null): a plain scalar matching one of
// these is not a string.
const NULL = /^(?:~|[Nn]ull|NULL)?$/;
const BOOL = /^(?:[Tt]rue|TRUE|[Ff]alse|FALSE)$/;
const INT = /^[-+]?[0-9]+$/;
const FLOAT = /^[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*)$/;
const FLOAT_EXP = /^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)[eE][-+]?[0-9]+$/;
/** Octal, hex, infinity, NaN: left to the yaml package. */
const OTHER_NUMBER = /^(?:0o[0-7]+|0x[0-9a-fA-F]+|[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$/;

/** `key: value` with a plain key at the start of the line. */
const PAIR = /^([A-Za-z_][\w-]*):(?: (.*))?$/;
/** Characters a plain scalar may not start with (YAML indicators). */
const INDICATOR_START = /^[-?:,[\]{}#&*!|>'"%@`]/;
/** Printable characters YAML takes as they are (tabs and control characters go to the yaml package). */
const PRINTABLE = /^(?:[\x20-\x7e\u00a0-\ud7ff\ue000-\ufefe\uff00-\ufffd]|[\ud800-\udbff][\udc00-\udfff])*$/;

/** The result for one-line `key: value` front matter, or undefined to let the yaml package read it. */
export function parseSimpleFrontMatter(yaml: string): FrontMatter | undefined {
  if (!PRINTABLE.test(yaml.replace(/\n/g, " "))) return undefined;
  const meta: Record<string, unknown> = {};
  const keyLines = new Map<string, number>();
  const lines = yaml.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === "" || line.startsWith("#")) continue;
    const m = PAIR.exec(line);
    if (!m) return undefined;
    const key = m[1]!;
    if (NULL.test(key) || BOOL.test(key) || key === "__proto__" || keyLines.has(key)) return undefined;
    const value = valueOf(trimSpaces(m[2] ?? ""));
    if (value === undefined) return undefined;
    meta[key] = value.is;
    keyLines.set(key, i + 1);
  }
  return keyLines.size > 0 ? { meta, keyLines } : undefined;
}

/** A value on the key's own line; undefined when it needs the yaml package. */
function valueOf(text: string): { is: unknown } | undefined {
  if (text.startsWith("[")) {
    if (!text.endsWith("]")) return undefined;
    const inner = trimSpaces(text.slice(1, -1));
    if (inner === "") return { is: [] };
    const items = inner.split(",").map(trimSpaces);
    if (items.length > 1 && items.at(-1) === "") items.pop(); // [a, b,] is allowed
    const values: unknown[] = [];
    for (const item of items) {
      const v = item.startsWith('"') || item.startsWith("'") ? quoted(item) : /[[\]{}#:]/.test(item) ? undefined : plain(item);
      if (v === undefined || item === "") return undefined;
      values.push(v.is);
    }
    return { is: values };
  }
  if (text.startsWith('"') || text.startsWith("'")) return quoted(text);
  if (text.includes(": ") || text.endsWith(":") || text.includes(" #")) return undefined;
  return plain(text);
}

function plain(text: string): { is: unknown } | undefined {
  if (NULL.test(text)) return { is: null };
  if (INDICATOR_START.test(text) || OTHER_NUMBER.test(text)) return undefined;
  if (BOOL.test(text)) return { is: text[0] === "t" || text[0] === "T" };
  if (INT.test(text)) return { is: parseInt(text, 10) };
  if (FLOAT.test(text) || FLOAT_EXP.test(text)) return { is: parseFloat(text) };
  return { is: text };
}

/** A whole quoted scalar without escapes; anything after the closing quote goes to the yaml package. */
function quoted(text: string): { is: string } | undefined {
  const m = /^"([^"\\]*)"$/.exec(text) ?? /^'((?:[^']|'')*)'$/.exec(text);
  if (!m) return undefined;
  return { is: text[0] === "'" ? m[1]!.replace(/''/g, "'") : m[1]! };
}

function trimSpaces(text: string): string {
  return text.replace(/^ +| +$/g, "");
}
