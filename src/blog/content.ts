// Reads a blog's content/**/*.md into pages: front matter (between --- fences, or
// Flask-FlatPages style up to the first blank line) and the markdown body, with every problem
// located by file and line.
import fs from "node:fs";
import path from "node:path";
import { parseFrontMatter } from "./front-matter.js";
import { lineAt, type ProblemList } from "./problems.js";

export interface Page {
  /** Path under content/ without ".md"; posts are flattened to "posts/NAME" whatever their folder. */
  path: string;
  /** For posts, NAME in /posts/NAME/; else the path. */
  name: string;
  isPost: boolean;
  /** File relative to the blog folder, for messages. */
  file: string;
  title: string;
  /** As the Flask site prints it: YYYY-MM-DD, or YYYY-MM-DD HH:MM:SS with a time; "" when absent. */
  date: string;
  /** Milliseconds since the epoch for sorting; undefined when there is no usable date. */
  dateValue: number | undefined;
  description: string;
  tags: string[];
  /** Every front-matter key, with title/date/description/tags normalized as above. */
  meta: Record<string, unknown>;
  /** The markdown after the front matter. */
  body: string;
  /** Line of the file where the body starts (1-based). */
  bodyLine: number;
}

const POSTS_DIR = "posts";

export interface ContentFile {
  abs: string;
  /** Path under content/, with "/" separators. */
  relToContent: string;
  /** Path relative to the blog folder, for messages. */
  file: string;
}

/** Every .md file under content/, sorted by path (so the first of two same-named posts is always the same). */
export function listContentFiles(siteDir: string): ContentFile[] {
  const contentDir = path.join(siteDir, "content");
  return listMarkdown(contentDir).map((abs) => {
    const relToContent = path.relative(contentDir, abs).split(path.sep).join("/");
    return { abs, relToContent, file: `content/${relToContent}` };
  });
}

export function readPage(f: ContentFile, problems: ProblemList): Page | undefined {
  let text: string;
  try {
    text = fs.readFileSync(f.abs, "utf8");
  } catch (err) {
    problems.error(f.file, 1, `cannot be read: ${(err as Error).message}`);
    return undefined;
  }
  return parsePage(text, f.relToContent, f.file, problems);
}

/** Drops (and reports) a post whose name an earlier post already has: both would be /posts/NAME/. */
export function withoutDuplicates<T extends { page: Page }>(items: T[], problems: ProblemList): T[] {
  const postsByName = new Map<string, Page>();
  return items.filter(({ page }) => {
    if (!page.isPost) return true;
    const other = postsByName.get(page.name);
    if (other) {
      problems.error(page.file, 1, `post name "${page.name}" is already used by ${other.file} (both would be /posts/${page.name}/); rename one of them — this one is not served`);
      return false;
    }
    postsByName.set(page.name, page);
    return true;
  });
}

/** Posts newest first; undated posts last; equal dates by name, so the order never depends on the disk. */
export function sortNewestFirst(pages: Page[]): Page[] {
  return [...pages].sort((a, b) => {
    if (a.dateValue !== b.dateValue) {
      if (a.dateValue === undefined) return 1;
      if (b.dateValue === undefined) return -1;
      return b.dateValue - a.dateValue;
    }
    return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
  });
}

function listMarkdown(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      if (e.name.startsWith(".")) continue;
      const full = path.join(d, e.name);
      if (e.isDirectory()) walk(full);
      else if (e.name.endsWith(".md") && (e.isFile() || e.isSymbolicLink())) out.push(full);
    }
  };
  walk(dir);
  return out;
}

export function parsePage(raw: string, relToContent: string, file: string, problems: ProblemList): Page | undefined {
  const text = raw.replace(/^\uFEFF/, "").replace(/\r\n?/g, "\n");
  const split = splitFrontMatter(text);
  if ("error" in split) {
    problems.error(file, split.line, split.error);
    return undefined;
  }
  let meta: Record<string, unknown> = {};
  let keyLines = new Map<string, number>();
  if (split.yaml.trim() !== "") {
    const front = parseFrontMatter(split.yaml);
    if ("error" in front) {
      problems.error(file, split.yamlLine + front.line - 1, `${front.error}; this page is not served until it is fixed`);
      return undefined;
    }
    ({ meta, keyLines } = front);
  }
  const keyLine = (key: string) => {
    const line = keyLines.get(key);
    return line === undefined ? 1 : split.yamlLine + line - 1;
  };

  const stem = relToContent.replace(/\.md$/, "");
  const isPost = stem.startsWith(`${POSTS_DIR}/`);
  const name = isPost ? stem.slice(stem.lastIndexOf("/") + 1) : stem;
  const title = scalarText(meta.title);
  const description = scalarText(meta.description);
  const tags = tagList(meta.tags, () => problems.warning(file, keyLine("tags"), "tags should be a list like [python, web]; read as one tag per comma-separated item"));
  if (isPost && !title) problems.warning(file, 1, "this post has no title: add `title: …` to its front matter");
  if (!isPost && stem !== "about") problems.warning(file, 1, "only content/about.md and content/posts/ are served; this page has no address");
  const { display, value } = parseDate(meta.date);
  if (meta.date != null && value === undefined) {
    problems.warning(file, keyLine("date"), `date "${String(meta.date)}" is not a date like 2024-07-01; the post is listed last`);
  }
  return {
    path: isPost ? `${POSTS_DIR}/${name}` : stem,
    name,
    isPost,
    file,
    title,
    date: display,
    dateValue: value,
    description,
    tags,
    meta: { ...meta, title, description, tags, date: display },
    body: text.slice(split.bodyOffset),
    bodyLine: lineAt(text, split.bodyOffset),
  };
}

type Split = { yaml: string; yamlLine: number; bodyOffset: number } | { error: string; line: number };

function splitFrontMatter(text: string): Split {
  const lines = text.split("\n");
  let bodyLineIndex: number;
  let yaml: string;
  let yamlLine: number;
  if (/^---\s*$/.test(lines[0] ?? "")) {
    const close = lines.findIndex((l, i) => i > 0 && /^(---|\.\.\.)\s*$/.test(l));
    if (close < 0) return { error: "front matter opened with --- on line 1 is never closed; add a line with --- after the last key", line: 1 };
    yaml = lines.slice(1, close).join("\n");
    yamlLine = 2;
    bodyLineIndex = close + 1;
  } else if (/^[A-Za-z_][\w-]*\s*:(\s|$)/.test(lines[0] ?? "")) {
    // Flask-FlatPages without fences: metadata runs to the first blank line.
    const blank = lines.findIndex((l) => l.trim() === "");
    const end = blank < 0 ? lines.length : blank;
    yaml = lines.slice(0, end).join("\n");
    yamlLine = 1;
    bodyLineIndex = end;
  } else {
    return { yaml: "", yamlLine: 1, bodyOffset: 0 };
  }
  // As FlatPages: the body starts after the blank lines that follow the metadata.
  while (bodyLineIndex < lines.length && lines[bodyLineIndex]!.trim() === "") bodyLineIndex++;
  let offset = 0;
  for (let i = 0; i < bodyLineIndex && i < lines.length; i++) offset += lines[i]!.length + 1;
  return { yaml, yamlLine, bodyOffset: Math.min(offset, text.length) };
}

function scalarText(value: unknown): string {
  if (value == null) return "";
  if (typeof value === "string") return value.trim();
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return String(value);
}

/** Tags as strings, whatever YAML made of them (2022, yes, 1.0 stay as written). */
function tagList(value: unknown, onString: () => void): string[] {
  if (value == null) return [];
  if (Array.isArray(value)) return value.filter((t) => t != null && String(t).trim() !== "").map((t) => String(t).trim());
  onString();
  return String(value)
    .split(",")
    .map((t) => t.trim())
    .filter((t) => t !== "");
}

const DATE = /^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ](\d{1,2}):(\d{2})(?::(\d{2}))?(?:\.\d+)?)?\s*(?:Z|[+-]\d{2}:?\d{2})?$/;

/** Quoted or not, with or without a time: one display form and one sortable value. */
export function parseDate(value: unknown): { display: string; value: number | undefined } {
  if (value == null) return { display: "", value: undefined };
  if (value instanceof Date) return dateParts(value.getUTCFullYear(), value.getUTCMonth() + 1, value.getUTCDate(), undefined);
  const text = String(value).trim();
  const m = DATE.exec(text);
  if (!m) return { display: text, value: undefined };
  const [, y, mo, d, h, mi, s] = m;
  const time = h !== undefined ? { h: Number(h), mi: Number(mi), s: Number(s ?? 0) } : undefined;
  const parsed = dateParts(Number(y), Number(mo), Number(d), time);
  return parsed.value === undefined ? { display: text, value: undefined } : parsed;
}

function dateParts(y: number, mo: number, d: number, time: { h: number; mi: number; s: number } | undefined) {
  const ms = Date.UTC(y, mo - 1, d, time?.h ?? 0, time?.mi ?? 0, time?.s ?? 0);
  const check = new Date(ms);
  if (Number.isNaN(ms) || check.getUTCMonth() !== mo - 1 || check.getUTCDate() !== d) return { display: `${y}-${mo}-${d}`, value: undefined };
  const p2 = (n: number) => String(n).padStart(2, "0");
  const day = `${String(y).padStart(4, "0")}-${p2(mo)}-${p2(d)}`;
  return { display: time ? `${day} ${p2(time.h)}:${p2(time.mi)}:${p2(time.s)}` : day, value: ms };
}
