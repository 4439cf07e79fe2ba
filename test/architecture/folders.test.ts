// The top-level folders of src/ import one another in one direction only: no folder reaches back
// into one that imports it, type-only and dynamic imports included (a circle of types is still a
// circle of knowledge). A failure names one import for each step of the circle.
import test from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { packageRoot } from "../../src/paths.js";

const src = path.join(packageRoot, "src");

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(full);
    return e.name.endsWith(".ts") ? [full] : [];
  });
}

/** A top-level folder, or a top-level file by its own name (padlock.ts → "padlock"). */
function unitOf(file: string): string {
  const [first, ...rest] = path.relative(src, file).split(path.sep);
  return rest.length === 0 ? first!.replace(/\.ts$/, "") : first!;
}

/** unit → unit it imports → one import that does it ("file → file"). */
function importGraph(): Map<string, Map<string, string>> {
  const graph = new Map<string, Map<string, string>>();
  const specifier = /\b(?:from|import)\s*\(?\s*["'](\.{1,2}\/[^"']+)["']/g;
  for (const file of sourceFiles(src)) {
    for (const [, spec] of readFileSync(file, "utf8").matchAll(specifier)) {
      const target = path.resolve(path.dirname(file), spec!).replace(/\.js$/, ".ts");
      if (!target.startsWith(src + path.sep)) continue;
      const [from, to] = [unitOf(file), unitOf(target)];
      if (from === to) continue;
      const edges = graph.get(from) ?? new Map<string, string>();
      if (!edges.has(to)) edges.set(to, `${path.relative(src, file)} → ${path.relative(src, target)}`);
      graph.set(from, edges);
    }
  }
  return graph;
}

/** Strongly connected components with more than one member (Tarjan). */
function circles(graph: Map<string, Map<string, string>>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const found: string[][] = [];
  const visit = (v: string) => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    for (const w of graph.get(v)?.keys() ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (stack.includes(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do component.push((w = stack.pop()!));
      while (w !== v);
      if (component.length > 1) found.push(component.sort());
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return found;
}

test("no import circle between the top-level folders of src/", () => {
  const graph = importGraph();
  assert.ok(graph.size > 10, "the imports were read");
  const described = circles(graph).map((members) => {
    const steps = members.flatMap((a) => members.filter((b) => graph.get(a)?.has(b)).map((b) => `  ${a} → ${b}: ${graph.get(a)!.get(b)}`));
    return `${members.join(", ")} import one another:\n${steps.join("\n")}`;
  });
  assert.deepEqual(described, [], described.join("\n"));
});

test("the check finds a circle when there is one", () => {
  const graph = new Map([
    ["config", new Map([["acme", "config/check.ts → acme/x.ts"]])],
    ["acme", new Map([["config", "acme/x.ts → config/schema.ts"]])],
    ["server", new Map([["config", "server/edge.ts → config/schema.ts"]])],
  ]);
  assert.deepEqual(circles(graph), [["acme", "config"]]);
});
