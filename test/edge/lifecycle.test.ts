// Signals on ./bin/padlock: SIGHUP reloads the config under load without a failed request (and
// a broken config is rejected, the running one kept); SIGTERM lets requests in flight finish.
import test from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { Pool } from "undici";
import { tempDir, waitFor } from "../support/env.js";
import { servePadlock } from "../support/padlock-process.js";
import { startEchoUpstream } from "../support/upstreams.js";

const HOST = "life.test";

function configText(upstream: string, marker: string, extra = ""): string {
  return `${extra}sites:\n  - hosts: [${HOST}]\n    http: serve\n    proxy: ${upstream}\n    headers: { X-Config: ${marker} }\n`;
}

/** Requests in a loop on keep-alive connections until stopped, counting answers by config marker and failures. */
function startLoad(pool: Pool, workers: number) {
  const seen = new Map<string, number>();
  const failures: string[] = [];
  let running = true;
  const loops = Array.from({ length: workers }, async () => {
    while (running) {
      try {
        const res = await pool.request({ path: "/", method: "GET", headers: { host: HOST } });
        await res.body.dump();
        const marker = String(res.headers["x-config"]);
        if (res.statusCode !== 200) failures.push(`status ${res.statusCode}`);
        seen.set(marker, (seen.get(marker) ?? 0) + 1);
      } catch (err) {
        failures.push(String(err));
      }
    }
  });
  return {
    seen,
    failures,
    count: (marker: string) => seen.get(marker) ?? 0,
    stop: async () => {
      running = false;
      await Promise.all(loops);
    },
  };
}

test("SIGHUP swaps the config under load with zero failed requests; a broken config is rejected", async (t) => {
  const [a, b] = await Promise.all([startEchoUpstream("a"), startEchoUpstream("b")]);
  const { dir, remove } = tempDir("reload");
  t.after(remove);
  const file = path.join(dir, "padlock.yaml");
  writeFileSync(file, configText(a.url, "A"));
  const padlock = await servePadlock(["--config", file]);
  const pool = new Pool(`http://127.0.0.1:${padlock.httpPort}`, { connections: 8 });
  const load = startLoad(pool, 8);
  try {
    await waitFor("load on the first config", () => load.count("A") > 200);
    writeFileSync(file, configText(b.url, "B"));
    padlock.child.kill("SIGHUP");
    await waitFor("answers from the new config", () => load.count("B") > 200);

    writeFileSync(file, configText(b.url, "C", "no_such_key: 1\n"));
    padlock.child.kill("SIGHUP");
    await waitFor("the rejection in the log", () => padlock.logLines().some((l) => String(l.msg).includes("config reload rejected") && String(l.msg).includes("no_such_key")));
    const before = load.count("B");
    await waitFor("more answers after the rejection", () => load.count("B") > before + 200);
    assert.equal(load.count("C"), 0, "the broken config never took effect");
    assert.ok(padlock.logLines().some((l) => String(l.msg).includes("previous config stays in force")));
  } finally {
    await load.stop();
    await pool.close();
    await padlock.stop("SIGKILL");
    await Promise.all([a.close(), b.close()]);
  }
  assert.deepEqual(load.failures, []);
});

test("SIGTERM: requests in flight finish, new connections are refused, exit code 0", async (t) => {
  const upstream = await startEchoUpstream();
  let arrived = 0;
  upstream.server.on("request", () => arrived++);
  const { dir, remove } = tempDir("term");
  t.after(remove);
  const file = path.join(dir, "padlock.yaml");
  writeFileSync(file, configText(upstream.url, "T", "limits: { shutdown_timeout: 30 }\n"));
  const padlock = await servePadlock(["--config", file]);
  const pool = new Pool(`http://127.0.0.1:${padlock.httpPort}`, { connections: 12 });
  try {
    const inFlight = Array.from({ length: 12 }, () =>
      pool.request({ path: "/slow?ms=1500", method: "GET", headers: { host: HOST } }).then(async (res) => ({ status: res.statusCode, body: await res.body.text() })),
    );
    await waitFor("all requests to reach the upstream", () => arrived === 12);
    padlock.child.kill("SIGTERM");
    const results = await Promise.all(inFlight);
    assert.deepEqual(results.map((r) => r.status), Array(12).fill(200));
    assert.ok(results.every((r) => r.body.includes('"url":"/slow?ms=1500"')));
    assert.equal(await padlock.exited, 0);
    await assert.rejects(fetch(`http://127.0.0.1:${padlock.httpPort}/`), "the listener is closed");
    assert.ok(padlock.logLines().some((l) => String(l.msg).includes("SIGTERM received")));
  } finally {
    await pool.destroy();
    await padlock.stop("SIGKILL");
    await upstream.close();
  }
});
