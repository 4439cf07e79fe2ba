// What padlock needs at run time besides Node, after the build: bin/padlock, the bundle, the
// generated config validator, the packages the bundle leaves out with everything they depend
// on, the built-in theme, the example blog and the schema. The container image holds exactly
// these, and tests that run padlock as another user copy them where that user can read them.
// Run after the build: node dist/build/runtime-files.js DEST (copies them from this checkout).
import { cpSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

/**
 * Left out of the bundle (build/bundle.ts): Ajv compiles the schema only when the generated
 * validator is missing, and the generated validator requires Ajv's and ajv-formats' runtime
 * helpers; pino-pretty formats logs on a terminal only.
 */
export const BUNDLE_EXTERNALS = ["ajv", "ajv-formats", "pino-pretty"];

const PROGRAM = ["package.json", "bin", "dist/bundle", "dist/src/config/generated", "themes", "examples/blog", "schema"];

interface LockedPackage {
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
}

/** Paths (relative to `root`) of everything padlock reads at run time. */
export function runtimeFiles(root: string): string[] {
  const lock = JSON.parse(readFileSync(path.join(root, "package-lock.json"), "utf8")) as { packages: Record<string, LockedPackage> };
  const needed = new Set<string>();
  const visit = (from: string, name: string) => {
    const found = installedAt(lock.packages, from, name);
    if (needed.has(found)) return;
    needed.add(found);
    const p = lock.packages[found]!;
    for (const dependency of Object.keys({ ...p.dependencies, ...p.optionalDependencies })) visit(found, dependency);
  };
  for (const name of BUNDLE_EXTERNALS) visit("", name);
  return [...PROGRAM, ...[...needed].sort()];
}

/** Where Node finds package `name` required from the package installed at `from` ("" for the project). */
function installedAt(packages: Record<string, LockedPackage>, from: string, name: string): string {
  for (let dir = from; ; ) {
    const candidate = dir ? `${dir}/node_modules/${name}` : `node_modules/${name}`;
    if (packages[candidate]) return candidate;
    if (!dir) throw new Error(`package-lock.json has no ${name} (needed by ${from || "padlock"}): run npm ci`);
    const parent = dir.lastIndexOf("/node_modules/");
    dir = parent < 0 ? "" : dir.slice(0, parent);
  }
}

export function copyRuntimeFiles(root: string, dest: string): void {
  for (const file of runtimeFiles(root)) cpSync(path.join(root, file), path.join(dest, file), { recursive: true });
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const dest = process.argv[2];
  if (!dest) throw new Error("usage: node dist/build/runtime-files.js DEST");
  copyRuntimeFiles(path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../.."), path.resolve(dest));
}
