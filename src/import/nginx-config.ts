// An nginx configuration read as nginx reads it: words, quoted strings and `${var}` up to `;`
// or a `{ … }` block, `#` comments, backslash escapes; `include` files (with wildcards) read in
// place; every directive keeps the file and line it came from, so the translation can say
// where each thing it did not translate is.
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";

export interface NginxDirective {
  name: string;
  args: string[];
  file: string;
  line: number;
  /** The directives inside `{ … }`; undefined for a simple directive. */
  block?: NginxDirective[];
  /** An `include` that could not be read, and why (nginx itself would refuse to start). */
  unread?: string;
}

export class NginxSyntaxError extends Error {
  override name = "NginxSyntaxError";
  constructor(
    readonly file: string,
    readonly line: number,
    problem: string,
  ) {
    super(`${file}:${line}: ${problem}`);
  }
}

interface Token {
  text: string;
  line: number;
  /** `;`, `{` or `}` as syntax, not inside quotes or escaped. */
  special: boolean;
}

const MAX_INCLUDE_DEPTH = 16;

export interface ReadOptions {
  /** Relative include paths are relative to it (nginx's prefix, /etc/nginx); default: the folder of the file. */
  prefix?: string;
  /** Where nginx's paths are on this machine (nginx ran in a container, say). */
  mapPath?: PathMap;
}

/** nginx's absolute path → the same file on this machine. */
export type PathMap = (file: string) => string;

/** FROM=TO pairs, longest FROM first: /etc/nginx=./services/nginx maps /etc/nginx/conf.d/x.conf to ./services/nginx/conf.d/x.conf. */
export function pathMap(pairs: [from: string, to: string][]): PathMap {
  const sorted = [...pairs].sort((a, b) => b[0].length - a[0].length);
  return (file) => {
    for (const [from, to] of sorted) {
      const base = from.replace(/\/+$/, "");
      if (file === base || file.startsWith(base + "/")) return to.replace(/\/+$/, "") + file.slice(base.length);
    }
    return file;
  };
}

/** Reads `file` and its includes. */
export function readNginxConfig(file: string, options: ReadOptions = {}): NginxDirective[] {
  const prefix = options.prefix ?? path.dirname(path.resolve(file));
  return readFile(path.resolve(file), { prefix, mapPath: options.mapPath ?? ((f) => f) }, []);
}

function readFile(file: string, o: Required<ReadOptions>, within: string[]): NginxDirective[] {
  const text = readFileSync(file, "utf8");
  const tokens = tokenize(text, file);
  const directives = parseBlock(tokens, { at: 0 }, file);
  return expandIncludes(directives, o, [...within, file]);
}

function expandIncludes(directives: NginxDirective[], o: Required<ReadOptions>, within: string[]): NginxDirective[] {
  const out: NginxDirective[] = [];
  for (const d of directives) {
    if (d.block) {
      out.push({ ...d, block: expandIncludes(d.block, o, within) });
      continue;
    }
    if (d.name !== "include" || d.args.length !== 1) {
      out.push(d);
      continue;
    }
    const pattern = o.mapPath(path.resolve(o.prefix, d.args[0]!));
    const files = /[*?[]/.test(pattern) ? expandWildcards(pattern) : [pattern];
    for (const f of files) {
      if (within.includes(f)) {
        out.push({ ...d, unread: `it includes itself (through ${within.map((w) => path.basename(w)).join(" → ")})` });
      } else if (within.length > MAX_INCLUDE_DEPTH) {
        out.push({ ...d, unread: `includes are nested more than ${MAX_INCLUDE_DEPTH} deep` });
      } else {
        try {
          out.push(...readFile(f, o, within));
        } catch (err) {
          if (err instanceof NginxSyntaxError) throw err;
          const code = (err as NodeJS.ErrnoException).code;
          out.push({ ...d, unread: code === "ENOENT" ? `${f} does not exist here` : code === "EACCES" ? `${f} cannot be read (permission denied)` : `${f}: ${(err as Error).message}` });
        }
      }
    }
  }
  return out;
}

/** The files a wildcard include names, sorted as nginx's glob() sorts them; none is fine. */
function expandWildcards(pattern: string): string[] {
  const parts = pattern.split("/").filter((p) => p !== "");
  let found = ["/"];
  for (const part of parts) {
    if (!/[*?[]/.test(part)) {
      found = found.map((dir) => path.join(dir, part));
      continue;
    }
    const match = wildcardRegExp(part);
    found = found.flatMap((dir) => {
      try {
        return readdirSync(dir).filter((name) => !name.startsWith(".") && match.test(name)).sort().map((name) => path.join(dir, name));
      } catch {
        return [];
      }
    });
  }
  return found.filter((f) => {
    try {
      return statSync(f).isFile();
    } catch {
      return false;
    }
  });
}

function wildcardRegExp(glob: string): RegExp {
  let source = "";
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === "*") source += "[^/]*";
    else if (c === "?") source += "[^/]";
    else if (c === "[") {
      const end = glob.indexOf("]", i + 1);
      if (end < 0) source += "\\[";
      else {
        source += `[${glob.slice(i + 1, end).replace(/^!/, "^").replace(/\\/g, "\\\\")}]`;
        i = end;
      }
    } else source += c.replace(/[.+^${}()|\\]/g, "\\$&");
  }
  return new RegExp(`^${source}$`);
}

function tokenize(text: string, file: string): Token[] {
  const tokens: Token[] = [];
  let line = 1;
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === "\n") {
      line++;
      i++;
    } else if (/\s/.test(c)) {
      i++;
    } else if (c === "#") {
      while (i < text.length && text[i] !== "\n") i++;
    } else if (c === ";" || c === "{" || c === "}") {
      tokens.push({ text: c, line, special: true });
      i++;
      if (c === "{" && isRawBlock(tokens)) {
        // A Lua block holds code, not directives: kept as one argument.
        const start = i;
        const startLine = line;
        let depth = 1;
        let quote: string | undefined;
        for (; i < text.length && depth > 0; i++) {
          const d = text[i]!;
          if (d === "\n") line++;
          if (quote) {
            if (d === "\\") i++;
            else if (d === quote) quote = undefined;
          } else if (d === '"' || d === "'") quote = d;
          else if (d === "{") depth++;
          else if (d === "}") depth--;
        }
        if (depth > 0) throw new NginxSyntaxError(file, startLine, "this block is not closed (no matching })");
        tokens.splice(tokens.length - 1, 1, { text: text.slice(start, i - 1), line: startLine, special: false }, { text: ";", line, special: true });
      }
    } else if (c === '"' || c === "'") {
      const startLine = line;
      let value = "";
      i++;
      for (;;) {
        if (i >= text.length) throw new NginxSyntaxError(file, startLine, `this ${c === '"' ? "double" : "single"}-quoted string is not closed`);
        const d = text[i]!;
        if (d === "\\" && i + 1 < text.length) {
          value += unescape(text[i + 1]!);
          i += 2;
          continue;
        }
        if (d === c) {
          i++;
          break;
        }
        if (d === "\n") line++;
        value += d;
        i++;
      }
      tokens.push({ text: value, line: startLine, special: false });
    } else {
      let value = "";
      while (i < text.length) {
        const d = text[i]!;
        if (/\s/.test(d) || d === ";" || d === "}" || (d === "{" && !value.endsWith("$"))) break;
        if (d === "{") {
          // ${var}: the braces belong to the word.
          const end = text.indexOf("}", i);
          if (end < 0) throw new NginxSyntaxError(file, line, `the variable starting "${value}{" has no closing }`);
          value += text.slice(i, end + 1);
          i = end + 1;
          continue;
        }
        if (d === "\\" && i + 1 < text.length) {
          value += unescape(text[i + 1]!);
          i += 2;
          continue;
        }
        value += d;
        i++;
      }
      tokens.push({ text: value, line, special: false });
    }
  }
  return tokens;
}

/** What nginx makes of a backslash and the character after it: \" \' \\ \t \r \n are unescaped, anything else (\. in a regular expression) kept as written. */
function unescape(c: string): string {
  if (c === '"' || c === "'" || c === "\\") return c;
  if (c === "t") return "\t";
  if (c === "r") return "\r";
  if (c === "n") return "\n";
  return "\\" + c;
}

/** `content_by_lua_block {` and its kin. */
function isRawBlock(tokens: Token[]): boolean {
  const name = tokens[tokens.length - 2];
  return name !== undefined && !name.special && /_by_lua_block$/.test(name.text) && tokens[tokens.length - 3]?.special !== false;
}

/** Directives up to the `}` that closes `opener` (the end of the file at the top level). */
function parseBlock(tokens: Token[], pos: { at: number }, file: string, opener?: NginxDirective): NginxDirective[] {
  const directives: NginxDirective[] = [];
  while (pos.at < tokens.length) {
    const first = tokens[pos.at]!;
    if (first.special) {
      if (first.text === "}") {
        if (!opener) throw new NginxSyntaxError(file, first.line, "unexpected }: no block is open here");
        pos.at++;
        return directives;
      }
      throw new NginxSyntaxError(file, first.line, `unexpected ${first.text}: a directive name should come first`);
    }
    const words: string[] = [];
    while (pos.at < tokens.length && !tokens[pos.at]!.special) words.push(tokens[pos.at++]!.text);
    const end = tokens[pos.at];
    if (!end) throw new NginxSyntaxError(file, first.line, `"${first.text}" does not end with ; or {`);
    pos.at++;
    const directive: NginxDirective = { name: words[0]!, args: words.slice(1), file, line: first.line };
    if (end.text === "{") directive.block = parseBlock(tokens, pos, file, directive);
    else if (end.text === "}") throw new NginxSyntaxError(file, end.line, `"${first.text}" does not end with ; before }`);
    directives.push(directive);
  }
  if (opener) throw new NginxSyntaxError(file, opener.line, `${opener.name} { is not closed: a } is missing before the end of the file`);
  return directives;
}
