// Which request paths a route's `path` takes: the prefix itself, with or without its trailing
// slash, and everything below it, never a longer name that merely starts the same.
import test from "node:test";
import assert from "node:assert/strict";
import { matchesPrefix } from "../../src/sites/build-site.js";

test("a route path ending in / takes itself, itself without the slash, and what is below", () => {
  for (const path of ["/dp_sim/", "/dp_sim", "/dp_sim/x", "/dp_sim/x/y?"]) assert.ok(matchesPrefix(path, "/dp_sim/"), path);
  for (const path of ["/dp_simx", "/dp_si", "/", "/other/dp_sim/"]) assert.ok(!matchesPrefix(path, "/dp_sim/"), path);
});

test("a route path without a trailing / takes itself and what is below, not longer names", () => {
  for (const path of ["/api", "/api/", "/api/v1"]) assert.ok(matchesPrefix(path, "/api"), path);
  for (const path of ["/apix", "/ap", "/"]) assert.ok(!matchesPrefix(path, "/api"), path);
});

test("the root route takes every path", () => {
  for (const path of ["/", "/a", "/a/b/"]) assert.ok(matchesPrefix(path, "/"), path);
});
