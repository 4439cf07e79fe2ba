// SIGTERM while DNS-01 work is in flight: `padlock serve` (a real process, default timeouts)
// orders from Pebble, whose DNS is Knot; the site's hook adds the TXT record at Knot and then
// hangs. padlock must not wait for the hook's 120 s timeout (and a remove's as much again):
// it stops the hook, removes the record, and exits within seconds, as systemd expects, without
// falling back to the site's next challenge type (a new order while stopping).
import test, { after, before } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { freePort, tempDir, waitFor } from "../support/env.js";
import { startKnot, type KnotServer } from "../support/knot.js";
import { startPebble, type Pebble } from "../support/pebble.js";
import { spawnPadlock, writeConfig } from "../support/padlock-process.js";

let knot: KnotServer;
let pebble: Omit<Pebble, "dns">;

before(async () => {
  knot = await startKnot();
  pebble = await startPebble({ dnsServer: knot.address });
});

after(async () => {
  await pebble?.stop();
  await knot?.stop();
});

test("SIGTERM during a hung DNS-01 hook: the hook is stopped, its record removed, and padlock exits within seconds", async (t) => {
  const work = tempDir("dns01-shutdown");
  t.after(() => work.remove());
  const update = await knot.writeUpdateHook(work.dir);
  const hung = path.join(work.dir, "hung-after-add");
  // add publishes the record for real, notes its own pid, then hangs; remove works.
  writeFileSync(
    path.join(work.dir, "hook.sh"),
    `#!/bin/sh\nset -e\n${update} "$@"\n[ "$1" = add ] || exit 0\nsleep 600 &\necho $! >> ${hung}\nwait\n`,
    { mode: 0o755 },
  );
  const config = {
    ca: pebble.directoryUrl,
    ca_root: pebble.apiRootFile,
    accept_terms: true,
    storage: "data",
    listen: "127.0.0.1",
    sites: [{ hosts: ["example.test"], redirect: "https://elsewhere.test", tls: { challenges: ["dns-01", "http-01"], dns: { provider: "exec", command: path.join(work.dir, "hook.sh") } } }],
  };
  const file = writeConfig(path.join(work.dir, "padlock.yaml"), config);
  const padlock = spawnPadlock(["serve", "--config", file, "--log-format", "json", "--http-port", String(await freePort()), "--https-port", String(await freePort())]);
  t.after(() => padlock.stop("SIGKILL"));

  await waitFor("the hook to hang after adding the record", () => existsSync(hung), 30_000);
  assert.equal((await knot.txt("_acme-challenge.example.test")).length, 1, "the record is at Knot");
  const sleeper = Number(readFileSync(hung, "utf8").trim());
  t.after(() => (ended(sleeper) ? undefined : process.kill(sleeper, "SIGKILL"))); // had padlock left it running, the test still ends
  const ordersBefore = pebble.ordersPlaced();
  padlock.child.kill("SIGTERM");
  let timer: NodeJS.Timeout | undefined;
  const code = await Promise.race([padlock.exited, new Promise((resolve) => (timer = setTimeout(resolve, 15_000, "still running")))]);
  clearTimeout(timer);
  assert.equal(code, 0, `padlock exits promptly and cleanly:\n${padlock.output()}`);

  assert.deepEqual(await knot.txt("_acme-challenge.example.test"), [], "the record it added is removed");
  assert.equal(pebble.ordersPlaced(), ordersBefore, "stopping tries no other challenge type: no new order");
  await waitFor("the hook's own child to be stopped with it", () => ended(sleeper), 5000);
  const messages = padlock.logLines().map((l) => String(l.msg));
  assert.ok(
    messages.some((m) => /publishing the TXT record _acme-challenge\.example\.test failed: the DNS hook .*hook\.sh add _acme-challenge\.example\.test\. \S+" was stopped: padlock is stopping/.test(m)),
    messages.join("\n"),
  );
  assert.ok(!messages.some((m) => /trying http-01|next attempt in/.test(m)), `no fallback and no promised next attempt while stopping:\n${messages.join("\n")}`);
});

/** Gone, or a zombie nobody has reaped yet. */
function ended(pid: number): boolean {
  try {
    return /^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return true;
  }
}
