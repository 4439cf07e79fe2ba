// The config validator. The build (npm run build / test / prepare) writes it as standalone code
// (generate-validator.ts), so start-up neither loads Ajv nor compiles the schema (≈0.2 s of CPU).
// When that file is missing or was made from another schema (only `tsc` was run since the
// schema changed), the schema is compiled here instead, with the same options. The bundle checks
// the generated file against the schema hash its build records (PADLOCK_SCHEMA_HASH); elsewhere
// the schema module (TypeBox, up to 20 ms to load) is loaded for the check.
import { createHash } from "node:crypto";
import { createRequire } from "node:module";
import path from "node:path";
import type { Ajv, Options, ValidateFunction } from "ajv";
import type { Config } from "./schema.js";
import { packageRoot } from "../paths.js";

/** Where the build writes the standalone validator (also read from dist/bundle/). */
export const GENERATED_VALIDATOR = path.join(packageRoot, "dist/src/config/generated/validate-config.cjs");

type GeneratedValidator = ValidateFunction<Config> & { schemaHash?: string };

/** Set by the bundle's build (build/bundle.ts) to schemaHash() of the schema bundled. */
declare const PADLOCK_SCHEMA_HASH: string | undefined;

/** Identifies the schema a generated validator was made from. */
export async function schemaHash(): Promise<string> {
  const { Config } = await import("./schema.js");
  return createHash("sha256").update(JSON.stringify(Config)).digest("hex");
}

/** verbose: error messages name the parent schema's keys and descriptions. */
export async function createAjv(extra: Options = {}): Promise<Ajv> {
  const { Ajv } = await import("ajv");
  const { default: addFormats } = await import("ajv-formats");
  const ajv = new Ajv({ allErrors: true, strict: false, verbose: true, ...extra });
  (addFormats as unknown as (a: Ajv) => void)(ajv);
  return ajv;
}

export async function loadValidator(): Promise<ValidateFunction<Config>> {
  const require = createRequire(import.meta.url);
  try {
    const generated = require(GENERATED_VALIDATOR) as GeneratedValidator;
    const expected = typeof PADLOCK_SCHEMA_HASH === "string" ? PADLOCK_SCHEMA_HASH : await schemaHash();
    if (generated.schemaHash === expected) return generated;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "MODULE_NOT_FOUND") throw err;
  }
  const { Config: schema } = await import("./schema.js");
  return (await createAjv()).compile<Config>(schema);
}
