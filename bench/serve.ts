// bench/serve: a rendered blog page (about 30 KB) over HTTPS keep-alive, padlock beside raw
// Node, nginx and Caddy in one run, over HTTP/1.1 (wrk) and HTTP/2 (h2load), with the same
// certificate chain (padlock's internal CA), the same bytes (the page padlock rendered, served
// by nginx and Caddy from a file and by raw Node from memory with padlock's header fields) and
// access logs off everywhere. Servers run on CPU 0, the load tools on CPU 1; the servers stay up
// for all rounds, whose order rotates so drifts in the machine's load hit every server alike.
// Ends with each server's resident memory after the runs.
//
//   node dist/bench/serve.js [rounds=4] [seconds=2]
// Needs wrk, h2load (nghttp2-client), nginx, caddy and the corpus in ../shared/corpus.
import os from "node:os";
import { freePort, tempDir } from "../test/support/env.js";
import {
  PAGE,
  caddyTls,
  h2load,
  loadAverage,
  measure,
  nginxTls,
  padlockChain,
  prepareBlog,
  residentKiB,
  startCaddy,
  startNginx,
  startPadlock,
  startRawNode,
  stop,
  table,
  wrk,
  type Measurement,
  type Server,
} from "./peers.js";

const [rounds = 4, seconds = 2] = process.argv.slice(2).map(Number);
const H1_CONNECTIONS = 32;
const H2 = { clients: 8, streams: 16 };

const work = tempDir("bench-serve");
const servers: Server[] = [];
try {
  const chain = await padlockChain(work.dir, ["bench.test", "127.0.0.1"]);
  const blog = await prepareBlog(work.dir, chain);
  const nginxPort = await freePort();
  const h1: Record<string, Server> = {
    padlock: await startPadlock(blog.config, chain),
    "node:https": await startRawNode("https", chain, blog.answer),
    nginx: await startNginx(work.dir, "nginx", `  server {\n    listen 127.0.0.1:${nginxPort} ssl http2;\n    ${nginxTls(chain)}\n    root ${blog.root};\n  }`),
    caddy: await startCaddy(work.dir, (port) => `https://127.0.0.1:${port}, https://bench.test:${port} {\n  ${caddyTls(chain)}\n  root * ${blog.root}\n  file_server\n}`),
  };
  // HTTP/2: raw Node is node:http2's server (node:https has no HTTP/2).
  const h2: Record<string, Server> = { ...h1, "node:http2": await startRawNode("http2", chain, blog.answer) };
  delete h2["node:https"];
  servers.push(...Object.values(h2), h1["node:https"]!);

  const url = (s: Server) => `https://127.0.0.1:${s.port}${PAGE}`;
  const runs = {
    h1: (s: Server) => measure(s, () => wrk(url(s), H1_CONNECTIONS, seconds)),
    h2: (s: Server) => measure(s, () => h2load(url(s), { ...H2, seconds, dir: work.dir })),
  };
  console.log(
    `bench/serve: GET ${PAGE} over HTTPS keep-alive, ${rounds} rounds of ${seconds} s per server; HTTP/1.1: wrk -t1 -c${H1_CONNECTIONS}; ` +
      `HTTP/2: h2load -t1 -c${H2.clients} -m${H2.streams}; servers pinned to CPU 0, load to CPU 1; ${os.cpus().length} CPUs, load average ${loadAverage()}`,
  );
  // Warm-up: compiled code, caches.
  for (const s of Object.values(h1)) await runs.h1(s);
  for (const s of Object.values(h2)) await runs.h2(s);
  const results = { h1: new Map<string, Measurement[]>(), h2: new Map<string, Measurement[]>() };
  for (let round = 0; round < rounds; round++) {
    for (const proto of ["h1", "h2"] as const) {
      const set = proto === "h1" ? h1 : h2;
      const names = Object.keys(set);
      for (let i = 0; i < names.length; i++) {
        const name = names[(i + round) % names.length]!;
        const m = await runs[proto](set[name]!);
        if (!results[proto].has(name)) results[proto].set(name, []);
        results[proto].get(name)!.push(m);
        console.log(`  round ${round + 1} ${proto} ${name.padEnd(10)} ${m.rps.toFixed(0).padStart(7)} req/s  p50 ${m.p50ms.toFixed(2)} ms  p99 ${m.p99ms.toFixed(2)} ms  ${m.cpuUs.toFixed(0)} µs CPU/req`);
      }
    }
  }
  const memory = (name: string) => {
    const s = servers.find((x) => x.name === name);
    return s ? `${(residentKiB(s.pid) / 1024).toFixed(0)}` : "";
  };
  console.log(`\n${table(`HTTP/1.1 keep-alive, wrk -c${H1_CONNECTIONS}, median of ${rounds} rounds`, results.h1, { "RSS MiB after": memory })}`);
  console.log(`\n${table(`HTTP/2, h2load -c${H2.clients} -m${H2.streams}, median of ${rounds} rounds`, results.h2, { "RSS MiB after": memory })}`);
  console.log(`\nload average at the end: ${loadAverage()}`);
} finally {
  await Promise.all(servers.map(stop));
  work.remove();
}
