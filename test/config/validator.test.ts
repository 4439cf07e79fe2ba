import test from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { Config } from "../../src/config/schema.js";
import { createAjv, GENERATED_VALIDATOR, loadValidator, schemaHash } from "../../src/config/validator.js";

const require = createRequire(new URL("../../src/config/validator.js", import.meta.url));

test("the build's standalone validator is made from the current schema and is the one loaded", async () => {
  const generated = require(GENERATED_VALIDATOR) as { schemaHash: string };
  assert.equal(generated.schemaHash, await schemaHash());
  assert.equal(await loadValidator(), generated);
});

test("the standalone validator reports the same errors as the schema compiled at run time", async () => {
  const standalone = await loadValidator();
  const compiled = (await createAjv()).compile(Config);
  const inputs: unknown[] = [
    {},
    { sites: [] },
    { email: "not-an-email", sites: [{ hosts: ["a.test"], static: "." }] },
    { sites: [{ hosts: ["a.test"], statik: "." }], unknown_key: 1 },
    { http_port: "eighty", sites: [{ hosts: "a.test", tls: { key_type: "dsa" } }] },
    { sites: [{ hosts: ["a.test"], routes: [{ path: "no-slash", proxy: "ftp://x" }] }] },
    { email: "me@example.com", ca: "letsencrypt", accept_terms: true, sites: [{ hosts: ["a.test"], static: "." }] },
  ];
  for (const input of inputs) {
    const verdict = standalone(input);
    assert.equal(verdict, compiled(input), JSON.stringify(input));
    // As JSON: the compiled one's schemas are TypeBox objects, which also carry symbol keys.
    assert.deepEqual(asJson(standalone.errors), asJson(compiled.errors), JSON.stringify(input));
  }
  assert.equal(standalone(inputs[0]), false);
  assert.equal(standalone(inputs.at(-1)), true);
});

function asJson(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value ?? null));
}
