// Reads padlock.yaml: YAML with line tracking, schema validation, then checks that need the
// file system or the whole config at once. Every problem is collected, none thrown early.
import { readFileSync } from "node:fs";
import path from "node:path";
import type { ErrorObject } from "ajv";
import { LineCounter, parseDocument, isNode, type Document } from "yaml";
import { Config } from "./schema.js";
import { ConfigError, type ConfigProblem } from "./problems.js";
import { checkConfig } from "./check.js";
import { loadValidator } from "./validator.js";

const validate = await loadValidator();

export function loadConfigFile(file: string): Config {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === "ENOENT" ? "no such file" : code === "EACCES" ? "permission denied" : code === "EISDIR" ? "it is a folder" : String(err);
    throw new ConfigError([{ file, key: "", message: `cannot read the config file ${path.resolve(file)}: ${why}` }]);
  }
  return parseConfig(text, file);
}

/** `baseDir` (where relative paths start) defaults to the folder of `file`. */
export function parseConfig(text: string, file: string, baseDir = path.dirname(path.resolve(file))): Config {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const lineOf = (offset: number | undefined) => (offset === undefined ? 1 : lineCounter.linePos(offset).line);

  if (doc.errors.length > 0) {
    throw new ConfigError(
      doc.errors.map((e) => ({ file, line: lineOf(e.pos[0]), key: "", message: `invalid YAML: ${e.message.split("\n")[0]}` })),
    );
  }
  const data: unknown = doc.toJS() ?? {};
  const locate = (keyPath: (string | number)[]) => lineOfPath(doc, keyPath, lineOf);

  if (!validate(data)) {
    throw new ConfigError(byLine(schemaProblems(validate.errors ?? [], file, locate)));
  }
  const problems = checkConfig(data, baseDir).map((p) => ({
    file,
    line: locate(p.path),
    key: keyName(p.path),
    message: p.message,
  }));
  if (problems.length > 0) throw new ConfigError(byLine(problems));
  return data;
}

function byLine(problems: ConfigProblem[]): ConfigProblem[] {
  return problems.map((p, i) => ({ p, i })).sort((a, b) => a.p.line! - b.p.line! || a.i - b.i).map(({ p }) => p);
}

function lineOfPath(doc: Document, keyPath: (string | number)[], lineOf: (o: number | undefined) => number): number {
  for (let n = keyPath.length; n >= 0; n--) {
    const node = n === 0 ? doc.contents : doc.getIn(keyPath.slice(0, n), true);
    if (isNode(node) && node.range) return lineOf(node.range[0]);
  }
  return 1;
}

export function keyName(keyPath: (string | number)[]): string {
  return keyPath.map((k, i) => (typeof k === "number" ? `[${k}]` : i === 0 ? k : `.${k}`)).join("");
}

function pointerToPath(pointer: string): (string | number)[] {
  if (!pointer) return [];
  return pointer
    .slice(1)
    .split("/")
    .map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

function schemaProblems(errors: ErrorObject[], file: string, locate: (p: (string | number)[]) => number): ConfigProblem[] {
  // A failed union reports once, in its own words, instead of once per branch.
  const unionPaths = errors.filter((e) => e.keyword === "anyOf").map((e) => e.instancePath);
  const kept = errors.filter(
    (e) => e.keyword === "anyOf" || !unionPaths.some((u) => e.instancePath === u || e.instancePath.startsWith(u + "/")),
  );
  const seen = new Set<string>();
  const problems: ConfigProblem[] = [];
  for (const e of kept) {
    const keyPath = pointerToPath(e.instancePath);
    let message: string;
    switch (e.keyword) {
      case "additionalProperties": {
        const extra = String(e.params.additionalProperty);
        keyPath.push(extra);
        const known = Object.keys((e.parentSchema as { properties?: object })?.properties ?? {}).filter((k) => k !== "$schema");
        const near = known.find((k) => editDistance(k, extra) <= 2);
        message = near ? `unknown key; did you mean "${near}"?` : `unknown key; expected one of: ${known.join(", ")}`;
        break;
      }
      case "required":
        message = `missing required key "${String(e.params.missingProperty)}"`;
        break;
      case "anyOf":
        message = `not an accepted value; expected ${describeUnion(e.parentSchema)}`;
        break;
      case "type":
        message = `wrong type; expected ${String(e.params.type)}`;
        break;
      case "pattern":
        message = `does not match the expected form ${describePattern(String(e.params.pattern))}`;
        break;
      case "format":
        message = `not a valid ${String(e.params.format)}`;
        break;
      case "minItems":
        message = `needs at least ${String(e.params.limit)} item(s)`;
        break;
      default:
        message = `${e.message ?? "invalid"}${e.parentSchema?.description ? ` (${e.parentSchema.description})` : ""}`;
    }
    const problem = { file, line: locate(keyPath), key: keyName(keyPath), message };
    const id = `${problem.key}|${message}`;
    if (!seen.has(id)) {
      seen.add(id);
      problems.push(problem);
    }
  }
  return problems;
}

function describeUnion(schema: unknown): string {
  const s = schema as { anyOf?: { const?: unknown; type?: string }[]; description?: string };
  const consts = (s.anyOf ?? []).filter((b) => b.const !== undefined).map((b) => JSON.stringify(b.const));
  if (consts.length === (s.anyOf ?? []).length && consts.length > 0) return `one of ${consts.join(", ")}`;
  if (s.description) return s.description.charAt(0).toLowerCase() + s.description.slice(1);
  return `one of: ${(s.anyOf ?? []).map((b) => b.type ?? JSON.stringify(b.const)).join(", ")}`;
}

function describePattern(pattern: string): string {
  if (pattern === "^/") return "(a path starting with /)";
  if (pattern.startsWith("^(http")) return "(a URL such as http://127.0.0.1:5000)";
  return pattern;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row.push(Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1)));
    prev = row;
  }
  return prev[b.length]!;
}
