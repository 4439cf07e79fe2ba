// The request target as routing sees it: normalised once (RFC 3986 dot segments, unreserved
// percent-escapes, repeated slashes), asterisk- and authority-form refused, absolute-form read.
import test from "node:test";
import assert from "node:assert/strict";
import { isRefused, normalizePath, parseTarget } from "../../src/server/request-target.js";

test("paths are normalised the way RFC 3986 compares them, with repeated slashes merged", () => {
  const cases: [string, string | undefined][] = [
    ["/", "/"],
    ["/a/b", "/a/b"],
    ["//sub", "/sub"],
    ["///sub/", "/sub/"],
    ["/a//b///c", "/a/b/c"],
    ["/a/./b", "/a/b"],
    ["/a/b/.", "/a/b/"],
    ["/a/b/..", "/a/"],
    ["/a/../b", "/b"],
    ["/app/../static/x", "/static/x"],
    ["/app/%2e%2e/x", "/x"],
    ["/app/%2E%2E/x", "/x"],
    ["/a/.%2e/b", "/b"],
    ["/%7Euser/%41%62%2d%5F", "/~user/Ab-_"],
    ["/a%2Fb/%2e%2e", "/"], // %2F is reserved: "a%2Fb" is one segment
    ["/a%2fb", "/a%2fb"],
    ["/%zz", undefined],
    ["/a%", undefined],
    ["/a%4", undefined],
    ["/caf%C3%A9", "/caf%C3%A9"],
    ["/..", undefined],
    ["/a/../..", undefined],
    ["/%2e%2e/etc/passwd", undefined],
    ["/a/%00", undefined],
  ];
  for (const [path, expected] of cases) assert.equal(normalizePath(path), expected, path);
});

test("a path with nothing to normalise comes back as it was", () => {
  const path = "/posts/making_of_7/";
  assert.equal(normalizePath(path), path);
});

test("asterisk-form and authority-form are refused; absolute-form names the host; the query is kept as sent", () => {
  assert.ok(isRefused(parseTarget("*")));
  assert.ok(isRefused(parseTarget("example.com:443")));
  assert.ok(isRefused(parseTarget("")));
  assert.deepEqual(parseTarget("http://Other.test:8080/a/../b?x=%2e"), { path: "/b", search: "?x=%2e", authority: "Other.test:8080" });
  assert.deepEqual(parseTarget("https://h.test"), { path: "/", search: "", authority: "h.test" });
  assert.deepEqual(parseTarget("/p?q=/../"), { path: "/p", search: "?q=/../", authority: undefined });
});
