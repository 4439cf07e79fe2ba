// Build step: bundles the command line into dist/bundle/ (one file per lazily loaded part), which
// bin/padlock runs. Node's ES module loader spends most of padlock's start-up resolving and
// compiling several hundred small files; one bundle per part skips that work.
// Run after tsc: node dist/build/bundle.js
import { build, type Plugin } from "esbuild";
import { rmSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { BUNDLE_EXTERNALS } from "./runtime-files.js";
import { schemaHash } from "../src/config/validator.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

/** acme-client's axios module and its crypto helpers, as its own modules require them, replaced: see build/acme-client-*.cjs. */
const acmeClientParts: Plugin = {
  name: "acme-client-parts",
  setup(b) {
    b.onResolve({ filter: /^\.\/(axios|crypto)$/ }, (args) =>
      /[\\/]acme-client[\\/]src$/.test(args.resolveDir) ? { path: path.join(root, `build/acme-client-${args.path.slice(2)}.cjs`) } : undefined,
    );
  },
};

const outdir = path.join(root, "dist/bundle");
// Chunk names carry content hashes: a previous build's chunks would pile up.
rmSync(outdir, { recursive: true, force: true });

await build({
  entryPoints: { padlock: path.join(root, "dist/src/cli/main.js") },
  outdir,
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  // Loaded only in rare cases (see runtime-files.ts): not worth carrying in the bundle.
  external: BUNDLE_EXTERNALS,
  // CommonJS dependencies call require() for Node's built-in modules.
  banner: { js: 'import { createRequire as __padlockRequire } from "node:module"; const require = __padlockRequire(import.meta.url);' },
  plugins: [acmeClientParts],
  // The generated validator is checked against this instead of a hash of the schema made at start-up (see config/validator.ts).
  define: { PADLOCK_SCHEMA_HASH: JSON.stringify(await schemaHash()) },
  logLevel: "warning",
});
