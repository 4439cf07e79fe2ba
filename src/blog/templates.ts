// Jinja-compatible templates on nunjucks: the site's templates/ first, then the built-in theme
// (so a site can override one template and inherit the rest, and theme pages such as 404.html
// extend the site's own layout.html). Adds what Flask templates use and nunjucks lacks:
// `{% with a=b %}…{% endwith %}` and url_for(endpoint, **args).
import fs from "node:fs";
import path from "node:path";
import nunjucks from "nunjucks";
import { defaultThemeDir } from "../paths.js";
import { UnknownEndpointError, type UrlBuilder } from "./url-for.js";
import type { ProblemList } from "./problems.js";

export const THEME_TEMPLATES = path.join(defaultThemeDir, "templates");

/** Thrown after the problem has been recorded: the page cannot be rendered. */
export class TemplateFailure extends Error {
  constructor(readonly file: string, readonly line: number, message: string) {
    super(message);
    this.name = "TemplateFailure";
  }
}

interface NunjucksParser {
  nextToken(): { value: string };
  parseSignature(tolerant: null, noParens: boolean): unknown;
  advanceAfterBlockEnd(name?: string): void;
  parseUntilBlocks(...names: string[]): unknown;
}
interface NunjucksNodes {
  CallExtension: new (ext: object, method: string, args: unknown, contentArgs: unknown[]) => unknown;
}
interface RenderContext {
  ctx: Record<string, unknown>;
}

/**
 * Jinja's `{% with a=x, b=y %}…{% endwith %}`: the values are computed in the outer scope, visible
 * inside (includes too) and gone after. Rendering is synchronous, so setting them on the context
 * for the duration of the body and restoring afterwards is exact.
 */
class WithExtension {
  tags = ["with"];

  parse(parser: NunjucksParser, nodes: NunjucksNodes): unknown {
    const tag = parser.nextToken();
    const args = parser.parseSignature(null, true);
    parser.advanceAfterBlockEnd(tag.value);
    const body = parser.parseUntilBlocks("endwith");
    parser.advanceAfterBlockEnd();
    return new nodes.CallExtension(this, "run", args, [body]);
  }

  run(context: RenderContext, ...rest: unknown[]): unknown {
    const body = rest.pop() as () => string;
    const values = (rest[0] ?? {}) as Record<string, unknown>;
    const saved = new Map<string, { had: boolean; value: unknown }>();
    for (const [key, value] of Object.entries(values)) {
      if (key === "__keywords") continue;
      saved.set(key, { had: Object.hasOwn(context.ctx, key), value: context.ctx[key] });
      context.ctx[key] = value;
    }
    try {
      return new nunjucks.runtime.SafeString(body());
    } finally {
      for (const [key, { had, value }] of saved) {
        if (had) context.ctx[key] = value;
        else delete context.ctx[key];
      }
    }
  }
}

export class Templates {
  private readonly env: nunjucks.Environment;
  /** Unknown endpoints already reported: rendered as "#" so the page still renders. */
  private readonly toleratedEndpoints = new Set<string>();
  private unknownEndpoint: string | undefined;

  constructor(
    private readonly siteDir: string,
    urls: UrlBuilder,
    private readonly problems: ProblemList,
  ) {
    const loader = new nunjucks.FileSystemLoader([path.join(siteDir, "templates"), THEME_TEMPLATES]);
    // throwOnUndefined: printing a variable that does not exist is an error with file:line,
    // not silently empty text (the page fields title/date/description/tags always exist).
    this.env = new nunjucks.Environment(loader, { autoescape: true, throwOnUndefined: true });
    this.env.addExtension("with", new WithExtension());
    this.env.addGlobal("url_for", (endpoint: string, args?: Record<string, unknown>) => {
      try {
        return urls.build(String(endpoint), args ?? {});
      } catch (err) {
        if (err instanceof UnknownEndpointError && this.toleratedEndpoints.has(err.endpoint)) return "#";
        if (err instanceof UnknownEndpointError) this.unknownEndpoint = err.endpoint;
        throw err;
      }
    });
  }

  /**
   * Renders a template. An unknown url_for endpoint is reported (with the template's file:line)
   * and rendered as "#" so the rest of the page is served; any other error is reported and thrown
   * as TemplateFailure. `forFile` names the content file the page comes from, for messages;
   * `quiet` renders on behalf of a request (an unknown tag), whose problems are not the author's.
   */
  render(name: string, context: Record<string, unknown>, forFile?: string, quiet = false): string {
    const report = (file: string, line: number, message: string) => {
      if (!quiet) this.problems.error(file, line, message);
    };
    for (let attempt = 0; ; attempt++) {
      this.unknownEndpoint = undefined;
      try {
        return this.env.render(name, context);
      } catch (err) {
        const where = this.locate(err as Error, name);
        const endpoint = this.unknownEndpoint as string | undefined;
        if (endpoint !== undefined && attempt < 50) {
          // Report every place that names it (nunjucks' own location is unreliable across extends).
          const uses = this.findInChain(name, new RegExp(`url_for\\(\\s*["']${endpoint.replace(/\W/g, "\\$&")}["']`));
          for (const use of uses.length ? uses : [where]) report(use.file, use.line, `${where.message}; rendered as "#"`);
          this.toleratedEndpoints.add(endpoint);
          continue;
        }
        const message = forFile ? `${where.message} (while rendering ${forFile})` : where.message;
        report(where.file, where.line, message);
        throw new TemplateFailure(where.file, where.line, message);
      }
    }
  }

  /**
   * file:line and the plain message out of a nunjucks error. Errors arrive wrapped once per level
   * ("(a.html)\n  Template render error: (a.html) [Line n, Column m]\n  msg"), every level
   * labelled with the top-level template even when the error is in its layout or an include, so
   * the line is checked against each template of the extends/include chain: the first whose line
   * holds what the message is about is the file.
   */
  private locate(err: Error, templateName: string): { file: string; line: number; message: string } {
    const text = err.message;
    const headers = [...text.matchAll(/\(([^()\n]*)\)(?: \[Line (\d+), Column (\d+)\])?\n\s*(?:Template render error: )?/g)];
    const inner = headers.at(-1);
    let message = (inner ? text.slice(inner.index! + inner[0].length) : text).trim();
    // A JavaScript error raised while rendering (an unknown filter, url_for's errors) arrives as
    // "Name: message" with a 0-based line; nunjucks' own parse and output errors are 1-based.
    const thrown = /^(\w*Error): /.exec(message);
    if (thrown) message = message.slice(thrown[0].length);
    const labelled = inner?.[1] && inner[1] !== "unknown path" ? inner[1] : templateName;
    const lines = [...new Set(headers.filter((h) => h[2] !== undefined).reverse().map((h) => Number(h[2]) + (thrown ? 1 : 0)))];
    const filter = /filter not found: (\S+)/.exec(message)?.[1];
    const looksRight = (source: string) => (filter ? source.includes(filter) : /\{\{|\{%/.test(source));
    for (const line of lines) {
      for (const file of [labelled, ...this.chain(templateName)]) {
        const source = this.sourceLines(file)?.[line - 1];
        if (source !== undefined && looksRight(source)) return { file: this.displayPath(file), line, message: this.friendly(message) };
      }
    }
    return { file: this.displayPath(labelled), line: lines[0] ?? 1, message: this.friendly(message) };
  }

  /** The template and every template it extends or includes (statically, by name), resolved to paths. */
  private chain(name: string, seen = new Set<string>()): string[] {
    const file = this.resolve(name);
    if (!file || seen.has(file)) return [];
    seen.add(file);
    const source = this.sourceLines(file)?.join("\n") ?? "";
    const named = [...source.matchAll(/\{%-?\s*(?:extends|include|import|from)\s+["']([^"']+)["']/g)].map((m) => m[1]!);
    return [file, ...named.flatMap((n) => this.chain(n, seen))];
  }

  /** Every line matching a pattern in the template's chain and in the site's other templates, as file:line. */
  private findInChain(name: string, pattern: RegExp): { file: string; line: number }[] {
    const dir = path.join(this.siteDir, "templates");
    const siteTemplates = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith(".html")).map((f) => path.join(dir, f)) : [];
    return [...new Set([...this.chain(name), ...siteTemplates])].flatMap((file) =>
      (this.sourceLines(file) ?? []).flatMap((source, i) => (pattern.test(source) ? [{ file: this.displayPath(file), line: i + 1 }] : [])),
    );
  }

  private resolve(name: string): string | undefined {
    if (path.isAbsolute(name)) return name;
    return [path.join(this.siteDir, "templates", name), path.join(THEME_TEMPLATES, name)].find((f) => fs.existsSync(f));
  }

  private readonly sources = new Map<string, string[] | undefined>();

  private sourceLines(file: string): string[] | undefined {
    const abs = this.resolve(file);
    if (!abs) return undefined;
    if (!this.sources.has(abs)) this.sources.set(abs, fs.existsSync(abs) ? fs.readFileSync(abs, "utf8").split("\n") : undefined);
    return this.sources.get(abs);
  }

  private friendly(message: string): string {
    if (/attempted to output null or undefined value/.test(message)) {
      return "a variable or attribute printed here does not exist (or is null); check its spelling, or guard it with {% if … %}";
    }
    return message;
  }

  private displayPath(file: string): string {
    const abs = path.isAbsolute(file) ? file : path.join(this.siteDir, "templates", file);
    if (abs.startsWith(THEME_TEMPLATES + path.sep)) return `(built-in theme) templates/${path.relative(THEME_TEMPLATES, abs)}`;
    return path.relative(this.siteDir, abs) || file;
  }
}
