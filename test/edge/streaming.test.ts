// 200 MB up and 200 MB down through ./bin/padlock, generated and consumed on the fly, while
// padlock's resident memory is sampled: it must stay bounded (bodies are streamed, never held).
import test, { after, before } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { Readable } from "node:stream";
import { Client } from "undici";
import { tempDir } from "../support/env.js";
import { servePadlock, type ServingPadlock } from "../support/padlock-process.js";
import { startEchoUpstream, type Echo, type TestUpstream } from "../support/upstreams.js";

const SIZE = 200 * 1024 * 1024;
// V8 collects external (Buffer) memory after ~64 MB of it; more than 100 MB means buffering.
const MAX_RSS_GROWTH = 100 * 1024 * 1024;
let upstream: TestUpstream;
let padlock: ServingPadlock;
let client: Client;
const scratch = tempDir("stream");

before(async () => {
  upstream = await startEchoUpstream();
  const config = path.join(scratch.dir, "padlock.yaml");
  writeFileSync(config, `log: { access: "off" }\nsites:\n  - hosts: [stream.test]\n    http: serve\n    proxy: ${upstream.url}\n`);
  padlock = await servePadlock(["--config", config]);
  client = new Client(`http://127.0.0.1:${padlock.httpPort}`);
  // Warm up so the baseline includes the code paths' own allocations.
  const warm = await client.request({ path: "/big?bytes=1000000", method: "GET", headers: { host: "stream.test" } });
  for await (const _ of warm.body) void _;
});
after(async () => {
  await client.close();
  await padlock.stop("SIGKILL");
  await upstream.close();
  scratch.remove();
});

/** Samples padlock's RSS until `work` settles; returns the largest growth over the baseline. */
async function peakRssGrowth(work: () => Promise<void>): Promise<number> {
  const baseline = padlock.rss();
  let peak = baseline;
  const timer = setInterval(() => (peak = Math.max(peak, padlock.rss())), 25);
  try {
    await work();
  } finally {
    clearInterval(timer);
  }
  return Math.max(peak, padlock.rss()) - baseline;
}

async function* generated(total: number): AsyncGenerator<Buffer> {
  const chunk = Buffer.alloc(64 * 1024, 0x62);
  for (let left = total; left > 0; left -= chunk.length) yield left >= chunk.length ? chunk : chunk.subarray(0, left);
}

test("a 200 MB upload streams through with bounded memory", async (t) => {
  let echo: Echo | undefined;
  const growth = await peakRssGrowth(async () => {
    const res = await client.request({ path: "/upload", method: "POST", headers: { host: "stream.test" }, body: Readable.from(generated(SIZE)) });
    echo = (await res.body.json()) as Echo;
  });
  assert.equal(echo!.bodyBytes, SIZE, "every byte arrived upstream");
  t.diagnostic(`padlock RSS growth: ${Math.round(growth / 1e6)} MB`);
  assert.ok(growth < MAX_RSS_GROWTH, `padlock grew by ${Math.round(growth / 1e6)} MB`);
});

test("a 200 MB download streams through with bounded memory", async (t) => {
  let received = 0;
  const growth = await peakRssGrowth(async () => {
    const res = await client.request({ path: `/big?bytes=${SIZE}`, method: "GET", headers: { host: "stream.test" } });
    assert.equal(res.statusCode, 200);
    for await (const chunk of res.body) received += (chunk as Buffer).length;
  });
  assert.equal(received, SIZE, "every byte arrived at the client");
  t.diagnostic(`padlock RSS growth: ${Math.round(growth / 1e6)} MB`);
  assert.ok(growth < MAX_RSS_GROWTH, `padlock grew by ${Math.round(growth / 1e6)} MB`);
});
