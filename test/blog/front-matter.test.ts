// The one-line front matter reader must give exactly what the yaml package gives (core schema),
// and hand everything it does not read exactly to the yaml package.
import test from "node:test";
import assert from "node:assert/strict";
import YAML from "yaml";
import { parseFrontMatter, parseSimpleFrontMatter } from "../../src/blog/front-matter.js";

const yamlPackage = (text: string) => YAML.parse(text, { schema: "core", uniqueKeys: true }) as unknown;

/** Front matter the direct reader handles: it must agree with the yaml package value for value. */
const READ_DIRECTLY = [
  "title: Hello\ndate: 2024-07-01\ndescription: A post\ntags: [python, web]",
  "title: The making of this blog, part 3 - Local → remote\ndate: 2022-10-10",
  "title: Hello, world [draft] {x}\ndescription: a#b c:d e-f ~ 😀 ümlaut",
  "title:   spaced   \ndescription:",
  'title: "Quoted: with colon # and hash"\nsubtitle: \'It\'\'s single\'',
  "draft: false\npinned: True\nweight: 3\nratio: 1.5\nexp: 1e3\nneg: +7\nhalf: .5\ntrailing: 1.\nnothing: ~\nalso_nothing: null",
  "tags: []\nmore: [a, b,]\nnumbers: [2022, 1.0, yes, no, true, null]\nquoted: ['a b', \"c\"]\nspaces: [ two words , x ]",
  "# a comment line\n\ntitle: After a blank line and a comment\n\n",
  "date: 2024-07-01 10:30:00\nkey_with-dash: x\n_under: y",
];

/** Front matter the direct reader must leave to the yaml package (it would need more of YAML). */
const LEFT_TO_YAML = [
  "tags:\n  [python,\n   web]", // multi-line flow list
  "tags:\n- a\n- b", // block list at the key's indentation
  "description:\n    folded onto\n    two lines",
  "title: x # a comment after a value",
  'title: "escaped \\" quote"',
  "title: \"x\" trailing",
  "n: 0o17\nh: 0x1F",
  "f: .inf",
  "t: -3",
  "a: &anchor x\nb: *anchor",
  "t: !!str 3",
  "t: |\n  block",
  "title: a: b",
  "title: x\ntitle: y", // duplicate key: the yaml package reports it
  "true: x",
  "Null: x",
  "title:x",
  "tags: [a, b] extra",
  "tags: [a: b]",
  "tags: [\"a, b\"]",
  "tags: [a, [b]]",
  "tags: [,]",
  "title: tab\there",
  "# only a comment",
  "__proto__: x",
];

test("one-line front matter is read directly, with the same values as the yaml package", () => {
  for (const text of READ_DIRECTLY) {
    const direct = parseSimpleFrontMatter(text);
    assert.ok(direct && "meta" in direct, `not read directly: ${JSON.stringify(text)}`);
    assert.deepEqual(direct.meta, yamlPackage(text), JSON.stringify(text));
  }
});

test("front matter needing more of YAML is left to the yaml package, and read the same through parseFrontMatter", () => {
  for (const text of LEFT_TO_YAML) {
    assert.equal(parseSimpleFrontMatter(text), undefined, `read directly, should not be: ${JSON.stringify(text)}`);
    const result = parseFrontMatter(text);
    const doc = YAML.parseDocument(text, { schema: "core", uniqueKeys: true });
    if (doc.errors.length) assert.ok("error" in result, `no error for ${JSON.stringify(text)}`);
    else if (YAML.isMap(doc.contents)) assert.deepEqual("meta" in result && result.meta, doc.toJS(), JSON.stringify(text));
    else assert.ok("error" in result, `non-mapping accepted: ${JSON.stringify(text)}`);
  }
});

test("key lines: the direct reader and the yaml package agree", () => {
  const simple = "\n# c\ntitle: a\n\ndate: 2024-01-01\ntags: [x]";
  const direct = parseSimpleFrontMatter(simple);
  assert.ok(direct && "keyLines" in direct);
  assert.deepEqual([...direct.keyLines], [["title", 3], ["date", 5], ["tags", 6]]);
  const viaYaml = parseFrontMatter("title: a\ndate: 2024-01-01\ntags:\n  - x\n  - y\nseries: s");
  assert.ok("keyLines" in viaYaml);
  assert.deepEqual([...viaYaml.keyLines], [["title", 1], ["date", 2], ["tags", 3], ["series", 6]]);
});

test("malformed front matter is an error with the line of the problem", () => {
  const result = parseFrontMatter("title: ok\ntags: [a, b\ndate: x");
  assert.ok("error" in result);
  assert.match(result.error, /^malformed front matter: /);
  assert.ok(result.line >= 2, `line ${result.line}`);
});
