// A config reload replaces the sites; once their last request is done, nothing in the edge may
// keep the old ones (and, for a blog, its whole rendered site) alive.
import test from "node:test";
import assert from "node:assert/strict";
import v8 from "node:v8";
import vm from "node:vm";
import { setImmediate as nextTurn } from "node:timers/promises";
import { exampleBlogDir } from "../../src/paths.js";
import type { SiteRuntime } from "../../src/server/site-runtime.js";
import { startPadlock } from "../support/padlock-in-process.js";
import { waitFor } from "../support/env.js";
import { requestAs } from "../support/clients.js";

v8.setFlagsFromString("--expose-gc");
const collectGarbage = vm.runInNewContext("gc") as () => void;

test("sites replaced by a reload are garbage once their requests are done", async () => {
  const config = { sites: [{ hosts: ["blog.test"], blog: exampleBlogDir, http: "serve" as const }] };
  const running = await startPadlock(config, { httpsPort: false });
  try {
    const get = async () => {
      const res = await requestAs(running.httpPort, "blog.test", "/posts/");
      assert.equal(res.status, 200);
    };
    await get();
    // Held only through a WeakRef from here on: the running program's own field is replaced by the reload.
    const replaced = new WeakRef((running.padlock as unknown as { sites: SiteRuntime[] }).sites[0]!);
    await running.padlock.reload(config);
    await get();
    await nextTurn(); // a WeakRef dereferenced in this turn stays alive until the turn ends
    // Polled: a callback still pending may hold the old site for a moment after the reload.
    await waitFor("the replaced site to be collected", async () => {
      collectGarbage();
      await nextTurn();
      return replaced.deref() === undefined;
    }, 5000);
  } finally {
    await running.close();
  }
});
