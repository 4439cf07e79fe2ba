// bench/proxy: reverse proxying over HTTPS keep-alive, padlock beside nginx and Caddy in one run,
// all proxying to the same upstream (an nginx returning a fixed 1 KiB body, so the proxies are
// the bottleneck) with keep-alive to it, and the same forwarding fields (X-Forwarded-For, -Proto,
// -Host, X-Real-IP, Forwarded). Same certificate chain everywhere, access logs off. The proxies
// run on CPU 0; wrk (keep-alive HTTP/1.1) and the upstream on CPU 1. A bare node:https server
// answering the same 1 KiB itself (no proxying) is the ceiling for anything built on Node.
//
//   node dist/bench/proxy.js [rounds=5] [seconds=3] [connections=32]
// Needs wrk, nginx and caddy.
import { writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { freePort, tempDir } from "../test/support/env.js";
import { LOAD_CPU, caddyTls, loadAverage, measure, nginxTls, padlockChain, startCaddy, startNginx, startPadlock, startRawNode, stop, table, wrk, type Measurement, type Server } from "./peers.js";

const [rounds = 5, seconds = 3, connections = 32] = process.argv.slice(2).map(Number);
const HOST = "bench.test";
const BODY = "x".repeat(1024);

const work = tempDir("bench-proxy");
const servers: Server[] = [];
try {
  const chain = await padlockChain(work.dir, [HOST, "127.0.0.1"]);
  const [upstreamPort, nginxPort] = [await freePort(), await freePort()];
  const upstreamUrl = `http://127.0.0.1:${upstreamPort}`;
  const upstream = await startNginx(work.dir, "upstream", `  server {\n    listen 127.0.0.1:${upstreamPort};\n    location / { default_type text/plain; return 200 "${BODY}"; }\n  }`, LOAD_CPU);
  const bodyFile = path.join(work.dir, "body.txt");
  writeFileSync(bodyFile, BODY);
  const proxies: Server[] = [
    await startPadlock({ log: { access: "off" }, sites: [{ hosts: [HOST], proxy: upstreamUrl }] }, chain),
    await startNginx(
      work.dir,
      "nginx",
      `  upstream app { server 127.0.0.1:${upstreamPort}; keepalive 32; }
  server {
    listen 127.0.0.1:${nginxPort} ssl http2;
    ${nginxTls(chain)}
    location / {
      proxy_pass http://app;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_set_header X-Forwarded-Host $http_host;
      proxy_set_header X-Real-IP $remote_addr;
      proxy_set_header Forwarded "for=$remote_addr;host=$http_host;proto=$scheme";
    }
  }`,
    ),
    // Caddy sets X-Forwarded-For, -Proto and -Host itself and keeps upstream connections alive.
    await startCaddy(
      work.dir,
      (port) =>
        `https://${HOST}:${port}, https://127.0.0.1:${port} {\n  ${caddyTls(chain)}\n  reverse_proxy ${upstreamUrl} {\n    header_up X-Real-IP {remote_host}\n    header_up Forwarded "for={remote_host};host={host};proto={scheme}"\n  }\n}`,
    ),
    await startRawNode("https", chain, { bodyFile, headers: { "content-type": "text/plain" } }),
  ];
  servers.push(upstream, ...proxies);
  proxies[3]!.name = "node:https (no proxy)";

  const run = (s: Server) => measure(s, () => wrk(`https://127.0.0.1:${s.port}/`, connections, seconds, [`Host: ${HOST}`]));
  console.log(
    `bench/proxy: GET / through each proxy to one upstream (nginx, 1 KiB), HTTPS keep-alive, wrk -t1 -c${connections}, ${rounds} rounds of ${seconds} s; ` +
      `proxies pinned to CPU 0, wrk and the upstream to CPU 1; ${os.cpus().length} CPUs, load average ${loadAverage()}`,
  );
  for (const s of proxies) await run(s); // warm-up: compiled code, upstream connection pools
  const results = new Map<string, Measurement[]>();
  for (let round = 0; round < rounds; round++) {
    for (let i = 0; i < proxies.length; i++) {
      const s = proxies[(i + round) % proxies.length]!;
      const m = await run(s);
      if (!results.has(s.name)) results.set(s.name, []);
      results.get(s.name)!.push(m);
      console.log(`  round ${round + 1} ${s.name.padEnd(22)} ${m.rps.toFixed(0).padStart(7)} req/s  p50 ${m.p50ms.toFixed(2)} ms  p99 ${m.p99ms.toFixed(2)} ms  ${m.cpuUs.toFixed(0)} µs CPU/req`);
    }
  }
  const ordered = new Map(proxies.map((s) => [s.name, results.get(s.name)!]));
  console.log(`\n${table(`Proxy, 1 KiB upstream answer, wrk -c${connections}, median of ${rounds} rounds`, ordered)}`);
  console.log(`\nload average at the end: ${loadAverage()}`);
} finally {
  await Promise.all(servers.map(stop));
  work.remove();
}
