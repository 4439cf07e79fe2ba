// The fuzz suite: a few hundred hostile inputs (malformed HTTP/1 requests over TCP and TLS, raw
// HTTP/2 frames, odd TLS ClientHellos, mutated and random bytes) against a padlock process that
// serves a static site and proxies /app/ to an upstream. After each input padlock must still
// answer a normal request; at the end, every request the upstream received must be one padlock
// routed there (its access log has it, answered by the upstream): nothing padlock refused, and
// no request hidden in another's body, reached the application.
//
// The seed is printed; PADLOCK_FUZZ_SEED=<seed> replays a run, PADLOCK_FUZZ_RUNS=<n> changes its size.
import test from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import tls from "node:tls";
import http2 from "node:http2";
import fc from "fast-check";
import { tempDir, waitFor } from "../support/env.js";
import { servePadlock, writeConfig, type ServingPadlock } from "../support/padlock-process.js";
import { rawRequest, sendRaw } from "../support/raw-client.js";
import { startEchoUpstream } from "../support/upstreams.js";
import { describeInput, encodeH2, FUZZ_HOST, fuzzInput, mutateBytes, type FuzzInput } from "../support/fuzz-inputs.js";

const SEED = Number(process.env.PADLOCK_FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
const RUNS = Number(process.env.PADLOCK_FUZZ_RUNS ?? 250);
/** How long to wait for more of an answer once bytes stop coming, and in all (a server waiting for more input says nothing). */
const IDLE_MS = 40;
const WAIT_MS = 800;

/** The first flight of a real TLS client, to mutate. */
async function captureClientHello(): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const server = net.createServer((socket) => {
      socket.once("data", (hello: Buffer) => {
        resolve(hello);
        socket.destroy();
        server.close();
      });
    });
    server.listen(0, "127.0.0.1", () => {
      const client = tls.connect({ host: "127.0.0.1", port: (server.address() as net.AddressInfo).port, servername: FUZZ_HOST, ALPNProtocols: ["h2", "http/1.1"] });
      client.on("error", () => {});
    });
    server.on("error", reject);
  });
}

/** GET / over HTTP/2 on a new connection: the status. */
async function http2Status(port: number): Promise<number> {
  const client = http2.connect(`https://127.0.0.1:${port}`, { servername: FUZZ_HOST, rejectUnauthorized: false });
  try {
    return await new Promise<number>((resolve, reject) => {
      client.once("error", reject);
      const stream = client.request({ ":path": "/", ":authority": FUZZ_HOST });
      stream.once("response", (headers) => resolve(Number(headers[":status"])));
      stream.once("error", reject);
      stream.resume();
    });
  } finally {
    client.close();
  }
}

function opensslHello(port: number, input: Extract<FuzzInput, { kind: "client-hello" }>): Promise<void> {
  const args = ["s_client", "-connect", `127.0.0.1:${port}`, ...(input.servername === undefined ? ["-noservername"] : ["-servername", input.servername])];
  if (input.alpn) args.push("-alpn", input.alpn);
  if (input.version) args.push(input.version);
  return new Promise((resolve) => {
    const child = execFile("openssl", args, { timeout: 5000 }, () => resolve());
    child.stdin!.end();
  });
}

test(`fuzz: ${RUNS} hostile inputs over HTTP, HTTPS (HTTP/1.1 and HTTP/2) and a proxy route; padlock keeps serving and refuses what it must (seed ${SEED})`, async (t) => {
  t.diagnostic(`seed ${SEED}: replay with PADLOCK_FUZZ_SEED=${SEED}`);
  const work = tempDir("fuzz");
  t.after(() => work.remove());
  mkdirSync(path.join(work.dir, "www"));
  writeFileSync(path.join(work.dir, "www", "index.html"), "home\n");
  const upstream = await startEchoUpstream();
  t.after(() => upstream.close());
  /** What the upstream received: each request's URL and the Host fields it carried. */
  const received: { url: string; hosts: string[] }[] = [];
  const hostsOf = (raw: string[]) => {
    const hosts: string[] = [];
    for (let i = 0; i < raw.length; i += 2) if (raw[i]!.toLowerCase() === "host") hosts.push(raw[i + 1]!);
    return hosts;
  };
  upstream.server.on("request", (req) => received.push({ url: req.url ?? "", hosts: hostsOf(req.rawHeaders) }));
  upstream.server.on("upgrade", (req, socket) => {
    received.push({ url: req.url ?? "", hosts: hostsOf(req.rawHeaders) });
    socket.destroy();
  });
  const config = writeConfig(path.join(work.dir, "padlock.yaml"), {
    storage: path.join(work.dir, "data"),
    limits: { headers_timeout: 2, request_timeout: 4, idle_timeout: 4 },
    sites: [{ hosts: [FUZZ_HOST], static: path.join(work.dir, "www"), http: "serve", tls: { internal: true }, routes: [{ path: "/app/", proxy: upstream.url }] }],
  });
  const padlock: ServingPadlock = await servePadlock(["--config", config]);
  t.after(() => padlock.stop());
  const hello = await captureClientHello();
  const inputs: string[] = [];

  const deliver = async (input: FuzzInput, id: number): Promise<void> => {
    const fill = (text: string) => text.replaceAll("{id}", String(id));
    const secure = { servername: FUZZ_HOST, ALPNProtocols: ["http/1.1"] };
    switch (input.kind) {
      case "http1":
        await sendRaw(input.tls ? padlock.httpsPort : padlock.httpPort, Buffer.from(fill(input.bytes), "latin1"), { tls: input.tls ? secure : undefined, idleMs: IDLE_MS, timeoutMs: WAIT_MS });
        return;
      case "h2-frames":
        await sendRaw(padlock.httpsPort, encodeH2(input, id), { tls: { servername: FUZZ_HOST, ALPNProtocols: ["h2"] }, idleMs: IDLE_MS, timeoutMs: WAIT_MS });
        return;
      case "client-hello":
        return opensslHello(padlock.httpsPort, input);
      case "tls-bytes":
        await sendRaw(padlock.httpsPort, mutateBytes(hello, input.mutate), { idleMs: IDLE_MS, timeoutMs: WAIT_MS });
        return;
      case "tcp-garbage":
        await sendRaw(input.tls ? padlock.httpsPort : padlock.httpPort, Buffer.from(input.bytes), { idleMs: IDLE_MS, timeoutMs: WAIT_MS });
    }
  };
  const stillServing = async (id: number, input: FuzzInput): Promise<void> => {
    const why = () => `after input ${id} ${describeInput(input)}`;
    assert.equal(padlock.child.exitCode, null, `padlock exited ${why()}:\n${padlock.output().slice(-3000)}`);
    const plain = await sendRaw(padlock.httpPort, rawRequest("GET / HTTP/1.1", [`Host: ${FUZZ_HOST}`, "Connection: close"]));
    assert.equal(plain.status, 200, `plain HTTP ${why()}: ${plain.error ?? plain.text}`);
    if (id % 10 === 0) {
      const secure = await sendRaw(padlock.httpsPort, rawRequest("GET / HTTP/1.1", [`Host: ${FUZZ_HOST}`, "Connection: close"]), { tls: { servername: FUZZ_HOST } });
      assert.equal(secure.status, 200, `HTTPS ${why()}: ${secure.error ?? secure.text}`);
      assert.equal(await http2Status(padlock.httpsPort), 200, `HTTP/2 ${why()}`);
    }
  };

  const started = Date.now();
  await fc.assert(
    fc.asyncProperty(fuzzInput, async (input) => {
      const id = inputs.length;
      inputs.push(describeInput(input));
      await deliver(input, id);
      await stillServing(id, input);
    }),
    { seed: SEED, numRuns: RUNS, endOnFailure: true },
  );
  t.diagnostic(`${inputs.length} inputs in ${((Date.now() - started) / 1000).toFixed(1)} s; the upstream received ${received.length} requests`);
  assert.ok(inputs.length >= RUNS);

  // Every request the upstream received was routed there by padlock and answered by it, and
  // carried one Host: the site's.
  const source = (url: string) => `${url} ← ${inputs[Number(/fz-(\d+)/.exec(url)?.[1])] ?? "?"}`;
  const routed = (url: string) => padlock.logLines().find((l) => l.path === url && (l.status === 200 || l.status === 101));
  await waitFor("access log lines for every request the upstream received", () => received.every((r) => routed(r.url)), 5000).catch(() => undefined);
  const unexplained = received.filter((r) => !routed(r.url));
  assert.deepEqual(unexplained.map((r) => source(r.url)), [], "requests the upstream received that padlock never routed there (refused, or hidden in another request's body)");
  const wrongHost = received.filter((r) => r.hosts.length !== 1 || r.hosts[0]!.toLowerCase().replace(/:\d+$/, "") !== FUZZ_HOST);
  assert.deepEqual(wrongHost.map((r) => `${JSON.stringify(r.hosts)} ${source(r.url)}`), [], "requests the upstream received with another Host than the site's");
  const failures = padlock.logLines().filter((l) => l.level === 50 || l.status === 500);
  assert.deepEqual(failures, [], "no request failed inside padlock");
});

test("fuzz: the ClientHello reader (used while a TLS-ALPN-01 challenge is pending) never throws on mutated or random bytes", async () => {
  const { parseClientHello } = await import("../../src/tls/client-hello.js");
  const hello = await captureClientHello();
  fc.assert(
    fc.property(
      fc.record({ truncateAt: fc.option(fc.integer({ min: 0, max: 600 }), { nil: undefined }), flips: fc.array(fc.tuple(fc.integer({ min: 0, max: 600 }), fc.integer({ min: 1, max: 255 })), { maxLength: 8 }), prefix: fc.option(fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 8 }), { nil: undefined }) }),
      (mutate) => {
        const result = parseClientHello(mutateBytes(hello, mutate));
        assert.ok(result === "incomplete" || result === "not-tls" || (typeof result === "object" && Array.isArray(result.alpn)));
      },
    ),
    { seed: SEED, numRuns: 2000 },
  );
});
