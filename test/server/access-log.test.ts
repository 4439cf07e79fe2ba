// The access log builds its lines by hand (it runs for every request): they must still be the
// JSON a parser reads back, escaped where a client chose the text, with the bytes actually sent.
import test from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { AccessLog, LineBatcher } from "../../src/server/access-log.js";
import type { Exchange } from "../../src/server/exchange.js";
import { exampleBlogDir } from "../../src/paths.js";
import { startPadlock } from "../support/padlock-in-process.js";
import { tempDir, waitFor } from "../support/env.js";
import { requestAs } from "../support/clients.js";

test("JSON lines: client text escaped, time as toISOString writes it, bytes of a file sent", async () => {
  const folder = tempDir("access-log");
  writeFileSync(path.join(folder.dir, "a.txt"), "x".repeat(1000));
  const edge = await startPadlock({ sites: [{ hosts: ["log.test"], static: folder.dir, http: "serve" }] });
  try {
    const odd = 'agent "quoted" \\ back\u00e9\ttab';
    const before = Date.now();
    // http.get sends the path as given (fetch would percent-encode the quotes).
    const status = await new Promise<number | undefined>((resolve, reject) =>
      http
        .get({ host: "127.0.0.1", port: edge.httpPort, path: '/a.txt?q="x"\\', headers: { host: "log.test", "user-agent": odd, referer: 'http://r.test/"r"' } }, (res) => {
          res.resume();
          res.on("end", () => resolve(res.statusCode));
        })
        .on("error", reject),
    );
    assert.equal(status, 200);
    const missing = await requestAs(edge.httpPort, "log.test", "/none", { method: "HEAD" });
    assert.equal(missing.status, 404);
    await waitFor("two access log lines", () => edge.access.length >= 2);
    const [file, head] = edge.access.map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.equal(file!.user_agent, odd);
    assert.equal(file!.referer, 'http://r.test/"r"');
    assert.equal(file!.path, '/a.txt?q="x"\\');
    assert.equal(file!.bytes, 1000);
    assert.equal(file!.status, 200);
    assert.equal(file!.protocol, "HTTP/1.1");
    assert.equal(file!.tls, null);
    assert.match(file!.time as string, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    const logged = Date.parse(file!.time as string);
    assert.ok(logged >= before - 1 && logged <= Date.now(), `${file!.time} is when the request was answered`);
    assert.deepEqual(Object.keys(file!), ["time", "client", "host", "method", "path", "status", "bytes", "duration_ms", "protocol", "tls", "referer", "user_agent"]);
    assert.equal(head!.method, "HEAD");
    assert.equal(head!.bytes, 0);
  } finally {
    await edge.close();
    folder.remove();
  }
});

test("a blog page answered from memory logs its body's size", async () => {
  const edge = await startPadlock({ sites: [{ hosts: ["blog.test"], blog: exampleBlogDir, http: "serve" }] });
  try {
    const res = await requestAs(edge.httpPort, "blog.test", "/posts/", { headers: { "accept-encoding": "identity" } });
    assert.equal(res.status, 200);
    const body = res.body;
    assert.ok(body.length > 100);
    await waitFor("the access log line", () => edge.access.length >= 1);
    assert.equal((JSON.parse(edge.access[0]!) as { bytes: number }).bytes, body.length);
  } finally {
    await edge.close();
  }
});

test("a redirect and an error answered with text log the bytes of their text", async () => {
  // Not the default site: a host it does not serve gets 404 over HTTP.
  const edge = await startPadlock({ sites: [{ hosts: ["go.test"], redirect: "https://elsewhere.test", default: false }] }, { httpsPort: false });
  // http.get, not fetch: fetch replaces the Host header with the URL's.
  const get = (host: string) =>
    new Promise<{ status: number; length: number }>((resolve, reject) =>
      http
        .get({ host: "127.0.0.1", port: edge.httpPort, path: "/x", headers: { host } }, (res) => {
          let length = 0;
          res.on("data", (c: Buffer) => (length += c.length));
          res.on("end", () => resolve({ status: res.statusCode!, length }));
        })
        .on("error", reject),
    );
  try {
    const moved = await get("go.test");
    const unknown = await get("nobody.test");
    assert.equal(moved.status, 308);
    assert.equal(unknown.status, 404);
    assert.ok(moved.length > 0 && unknown.length > 0);
    await waitFor("two access log lines", () => edge.access.length >= 2);
    const logged = edge.access.map((l) => JSON.parse(l) as { status: number; bytes: number });
    assert.deepEqual(
      logged.map((l) => [l.status, l.bytes]),
      [
        [308, moved.length],
        [404, unknown.length],
      ],
    );
  } finally {
    await edge.close();
  }
});

test("LineBatcher: one write per chunk, the rest on flush", () => {
  const chunks: string[] = [];
  const batcher = new LineBatcher((c) => chunks.push(c.toString()), 14);
  batcher.write("ab\n");
  batcher.write("cd\n");
  assert.deepEqual(chunks, [], "both fit in the chunk");
  batcher.write("éf\n"); // counted as up to 9 bytes: no longer fits after 6 of 14
  assert.deepEqual(chunks, ["ab\ncd\n"]);
  batcher.flush();
  assert.deepEqual(chunks, ["ab\ncd\n", "éf\n"], "UTF-8 kept whole");
  batcher.flush();
  assert.equal(chunks.length, 2, "nothing pending, nothing written");
  batcher.write("a line longer than a chunk\n");
  assert.deepEqual(chunks.slice(2), ["a line longer than a chunk\n"]);
});

/** An exchange as the edge hands it to the log, for requests that never touched a socket. */
function fakeExchange(path: string, userAgent?: string): Exchange {
  const headers: Record<string, string> = userAgent ? { "user-agent": userAgent } : {};
  return {
    req: { method: "GET", httpVersion: "1.1", headers } as unknown as Exchange["req"],
    res: { statusCode: 200, writableFinished: true, getHeader: () => undefined } as unknown as Exchange["res"],
    host: "batch.test",
    authority: "batch.test",
    path,
    search: "",
    secure: false,
    client: { ip: "192.0.2.1", chain: ["192.0.2.1"], proto: "http", host: "batch.test", peer: "192.0.2.1", peerTrusted: false },
    startedAt: performance.now(),
    bytesSent: 5,
  };
}

test("AccessLog: lines written a batch at a time, in order, the rest at most maxDelayMs later", async () => {
  const lines: string[] = [];
  let flushes = 0;
  const log = new AccessLog("json", { write: (l) => lines.push(l), flush: () => flushes++ }, { batch: 3, maxDelayMs: 30 });
  log.logExchange(fakeExchange("/1"), null);
  log.logExchange(fakeExchange("/2"), null);
  assert.deepEqual(lines, [], "noted, not written yet");
  log.logExchange(fakeExchange("/3", 'a "quoted" agent'), null);
  assert.deepEqual(
    lines.map((l) => (JSON.parse(l) as { path: string }).path),
    ["/1", "/2", "/3"],
    "the third fills the batch",
  );
  assert.equal((JSON.parse(lines[2]!) as { user_agent: string }).user_agent, 'a "quoted" agent');
  log.logExchange(fakeExchange("/4"), null);
  await waitFor("the late line", () => lines.length === 4, 2000); // the delay is 30 ms; generous for a loaded machine, far below the default
  assert.ok(flushes >= 1, "the sink was told to pass the line on");
});

test("AccessLog: a format change writes the lines noted so far in the old format first; close writes everything", () => {
  const lines: string[] = [];
  let ended = false;
  const log = new AccessLog("json", { write: (l) => lines.push(l), flush: () => {}, end: () => (ended = true) }, { batch: 100 });
  log.logExchange(fakeExchange("/before"), null);
  log.format = "common";
  log.logExchange(fakeExchange("/after"), null);
  assert.equal(lines.length, 1);
  assert.equal((JSON.parse(lines[0]!) as { path: string }).path, "/before");
  log.close();
  assert.match(lines[1]!, /^192\.0\.2\.1 - - \[\d{2}\/[A-Z][a-z]{2}\/\d{4}:\d{2}:\d{2}:\d{2} \+0000\] "GET \/after HTTP\/1\.1" 200 5\n$/);
  assert.ok(ended, "the sink was told to write everything out");
});
