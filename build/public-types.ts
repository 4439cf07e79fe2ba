// Build step: keeps of the declarations tsc emitted for src/index.ts (dist/types) only those the
// public API reaches, so the published .d.ts files describe the API and none of padlock's insides.
// Fails when the API's types reach into padlock's insides (that would publish them).
// Run after `tsc -p tsconfig.types.json`: node dist/build/public-types.js
import { readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const typesDir = path.join(root, "dist/types");
/** The files the public API may consist of: anything else reached is a leak. */
const PUBLIC = new Set(["index.d.ts", "errors.d.ts", "library/api.d.ts", "library/manage-certificates.d.ts", "library/padlock-server.d.ts"]);

const reached = new Set<string>();
const visit = (file: string) => {
  if (reached.has(file)) return;
  reached.add(file);
  const text = readFileSync(path.join(typesDir, file), "utf8");
  for (const [, spec] of text.matchAll(/\bfrom\s+["'](\.{1,2}\/[^"']+)["']|import\(["'](\.{1,2}\/[^"']+)["']\)/g)) {
    if (!spec) continue;
    visit(path.relative(typesDir, path.resolve(path.dirname(path.join(typesDir, file)), spec.replace(/\.js$/, ".d.ts"))));
  }
};
visit("index.d.ts");
const leaks = [...reached].filter((f) => !PUBLIC.has(f));
if (leaks.length) {
  console.error(`the public API's types reach into padlock's insides: ${leaks.join(", ")}; keep public types in src/library/api.ts`);
  process.exit(1);
}

const prune = (dir: string): void => {
  for (const name of readdirSync(dir)) {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) {
      prune(full);
      if (readdirSync(full).length === 0) rmSync(full, { recursive: true });
    } else if (!reached.has(path.relative(typesDir, full))) rmSync(full);
  }
};
prune(typesDir);
