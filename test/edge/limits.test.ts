// Limits on both listeners: malformed requests get 400 and a closed connection, oversized heads
// 431; and slowhttptest's slowloris and slow-body attacks on ./bin/padlock do not stop a normal
// client from getting answers.
import test, { after, before } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { writeFileSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import tls from "node:tls";
import { startPadlock, type RunningPadlock } from "../support/padlock-in-process.js";
import { tempDir } from "../support/env.js";
import { servePadlock } from "../support/padlock-process.js";
import { makeTestPki, type TestPki } from "../support/tls.js";
import { startEchoUpstream, type TestUpstream } from "../support/upstreams.js";

const NAME = "limits.test";
let pki: TestPki;
let upstream: TestUpstream;
let edge: RunningPadlock;

before(async () => {
  pki = makeTestPki([NAME]);
  upstream = await startEchoUpstream();
  edge = await startPadlock({ limits: { header_size: 4096, header_count: 20, headers_timeout: 1, idle_timeout: 1 }, sites: [{ hosts: [NAME], proxy: upstream.url, http: "serve" }] }, { pki });
});
after(async () => {
  await edge.close();
  await upstream.close();
});

/** Sends raw bytes and returns everything received until the server closes the connection. */
function raw(secure: boolean, request: string | string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = secure
      ? tls.connect({ port: edge.httpsPort, host: "127.0.0.1", servername: NAME, ca: pki.ca, ALPNProtocols: ["http/1.1"] })
      : net.connect({ port: edge.httpPort, host: "127.0.0.1" });
    let received = "";
    socket.on("data", (chunk: Buffer) => (received += chunk.toString("latin1")));
    socket.on("close", () => resolve(received));
    socket.on("error", reject);
    for (const part of Array.isArray(request) ? request : [request]) socket.write(part);
  });
}

for (const secure of [false, true]) {
  const label = secure ? "HTTPS" : "HTTP";
  test(`${label}: a malformed request gets 400 and the connection closes`, async () => {
    const answer = await raw(secure, `GET / HTTP/1.1\r\nHost: ${NAME}\r\nthis is not a header\r\n\r\n`);
    assert.match(answer, /^HTTP\/1\.1 400 /);
  });

  test(`${label}: a client that never finishes its request head gets 408 and is disconnected (headers_timeout)`, async () => {
    const answer = await raw(secure, `GET / HTTP/1.1\r\nHost: ${NAME}\r\nX-Slow: 1\r\n`);
    assert.match(answer, /^HTTP\/1\.1 408 /);
  });

  test(`${label}: an idle keep-alive connection is closed after idle_timeout`, async () => {
    const answer = await raw(secure, `GET /status?code=204 HTTP/1.1\r\nHost: ${NAME}\r\n\r\n`);
    assert.match(answer, /^HTTP\/1\.1 204 /);
    assert.doesNotMatch(answer, /connection: close/i, "the server kept the connection alive, then closed it when idle");
  });

  test(`${label}: a request head over header_size gets 431`, async () => {
    const answer = await raw(secure, `GET / HTTP/1.1\r\nHost: ${NAME}\r\nX-Big: ${"a".repeat(8000)}\r\n\r\n`);
    assert.match(answer, /^HTTP\/1\.1 431 /);
  });

  test(`${label}: more header fields than header_count gets 431 and the connection closes`, async () => {
    const fields = Array.from({ length: 30 }, (_, i) => `X-F${i}: ${i}\r\n`).join("");
    const answer = await raw(secure, `GET / HTTP/1.1\r\nHost: ${NAME}\r\n${fields}\r\n`);
    assert.match(answer, /^HTTP\/1\.1 431 /);
    assert.match(answer, /Too many request header fields/);
  });
}

function slowhttptest(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile("slowhttptest", args, { timeout: 60_000 }, (err, stdout, stderr) => (err ? reject(new Error(`slowhttptest failed: ${stderr || err.message}`)) : resolve(stdout)));
  });
}

for (const [mode, flags] of [
  ["slowloris (slow headers)", ["-H"]],
  ["slow body (R-U-Dead-Yet)", ["-B", "-s", "65536"]],
] as const) {
  test(`${mode}: a normal client keeps getting answers during the attack`, async (t) => {
    const { dir, remove } = tempDir("slow");
    t.after(remove);
    const file = path.join(dir, "padlock.yaml");
    writeFileSync(file, `log: { access: "off" }\nlimits: { headers_timeout: 2, request_timeout: 4 }\nsites:\n  - hosts: [${NAME}]\n    default: true\n    http: serve\n    proxy: ${upstream.url}\n`);
    const padlock = await servePadlock(["--config", file]);
    try {
      const attack = slowhttptest([...flags, "-c", "400", "-r", "200", "-i", "1", "-l", "6", "-p", "3", "-u", `http://127.0.0.1:${padlock.httpPort}/`]);
      let done = false;
      void attack.finally(() => (done = true));
      let answered = 0;
      const failures: string[] = [];
      while (!done) {
        try {
          const res = await fetch(`http://127.0.0.1:${padlock.httpPort}/`, { headers: { host: NAME, connection: "close" }, signal: AbortSignal.timeout(10_000) });
          if (res.status === 200) answered++;
          else failures.push(`status ${res.status}`);
          await res.arrayBuffer();
        } catch (err) {
          failures.push(String(err));
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const report = await attack;
      t.diagnostic(`${answered} answers during the attack; slowhttptest: ${/Exit status:.*$/m.exec(report)?.[0]?.replace(/\x1b\[[0-9;]*m/g, "") ?? "?"}`);
      assert.deepEqual(failures, []);
      assert.ok(answered >= 3, `only ${answered} answers during the attack`);
      assert.doesNotMatch(report, /service available:\s+NO/);
    } finally {
      await padlock.stop("SIGKILL");
    }
  });
}
