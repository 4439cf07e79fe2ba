// The doctor's table, golden: fixed rows at a fixed width give exactly this text.
import test from "node:test";
import assert from "node:assert/strict";
import type { CheckResult } from "../../src/doctor/check-result.js";
import { formatTable, wrap } from "../../src/doctor/format-table.js";

const rows: CheckResult[] = [
  { status: "ok", check: "config", found: "/etc/padlock/padlock.yaml is valid: 1 site(s), 2 host name(s)", fix: "" },
  {
    status: "warn",
    check: "DNS www.blog.example",
    found: "www.blog.example resolves to 203.0.113.7 while this machine has 198.51.100.4",
    fix: "point www.blog.example's A/AAAA records at this machine",
  },
  {
    status: "fail",
    check: "canary blog.example",
    found:
      "fetched http://blog.example/.well-known/acme-challenge/Zm9vYmFyYmF6cXV4cXV1eGNvcmdl as the CA would:\n" +
      "- from 198.51.100.4:80: 404 with Server: nginx: another web server answered; port 80 at 198.51.100.4 is not padlock (it is nginx (pid 812))",
    fix: "stop the other web server on port 80 or make it pass /.well-known/acme-challenge/ to padlock",
  },
];

const GOLDEN = `STATUS  CHECK                 FOUND                        FIX
------  --------------------  ---------------------------  ---------------------
ok      config                /etc/padlock/padlock.yaml    -
                              is valid: 1 site(s), 2 host
                              name(s)

WARN    DNS www.blog.example  www.blog.example resolves    point
                              to 203.0.113.7 while this    www.blog.example's
                              machine has 198.51.100.4     A/AAAA records at
                                                           this machine

FAIL    canary blog.example   fetched                      stop the other web
                              http://blog.example/.well-k  server on port 80 or
                              nown/acme-challenge/Zm9vYmF  make it pass
                              yYmF6cXV4cXV1eGNvcmdl as     /.well-known/acme-cha
                              the CA would:                llenge/ to padlock
                              - from 198.51.100.4:80: 404
                              with Server: nginx: another
                              web server answered; port
                              80 at 198.51.100.4 is not
                              padlock (it is nginx (pid
                              812))

1 failed, 1 warning, 1 ok
`;

test("the table at 80 columns matches the golden text", () => {
  assert.equal(formatTable(rows, 80), GOLDEN);
});

test("no line of the table is wider than asked", () => {
  for (const width of [60, 80, 120]) {
    for (const line of formatTable(rows, width).split("\n")) assert.ok(line.length <= width, `${width}: "${line}" is ${line.length} wide`);
  }
});

test("wrap keeps explicit line breaks and cuts words longer than the column", () => {
  assert.deepEqual(wrap("one two three\nfour", 7), ["one two", "three", "four"]);
  assert.deepEqual(wrap("abcdefghij k", 4), ["abcd", "efgh", "ij k"]);
});
