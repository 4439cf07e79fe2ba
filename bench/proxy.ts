// Proxy throughput and tail latency: padlock vs nginx (one worker, upstream keep-alive), both
// over HTTPS with keep-alive, proxying to the same upstream (a separate nginx returning a fixed
// 1 KiB page, so the proxies are the bottleneck), measured with wrk in alternating rounds in one
// run. Prints requests/s and p99 for each and padlock/nginx ratios, plus a bare Node HTTPS
// server answering by itself (no proxying) as the ceiling for anything built on Node.
//   node dist/bench/proxy.js [rounds=5] [seconds=8] [connections=32]
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { makeTestPki } from "../test/support/tls.js";
import { CLOCK_TICKS_PER_SECOND, cpuTicks } from "./process-cpu.js";
import { median } from "./stats.js";

const [rounds = 5, seconds = 8, connections = 32] = process.argv.slice(2).map(Number);
const HOST = "bench.test";
const BODY = "x".repeat(1024);

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function waitForPort(port: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, "127.0.0.1", () => (s.destroy(), resolve(true)));
      s.on("error", () => resolve(false));
    });
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`nothing listens on ${port}`);
}

function startNginx(dir: string, name: string, serverBlock: string): ChildProcess {
  const prefix = path.join(dir, name);
  mkdirSync(prefix, { recursive: true });
  const temp = ["client_body", "proxy", "fastcgi", "uwsgi", "scgi"].map((t) => `${t}_temp_path ${prefix}/${t};`).join("\n  ");
  writeFileSync(
    path.join(prefix, "nginx.conf"),
    `worker_processes 1;\ndaemon off;\npid ${prefix}/nginx.pid;\nerror_log ${prefix}/error.log warn;\nevents { worker_connections 4096; }\nhttp {\n  access_log off;\n  ${temp}\n  keepalive_requests 1000000;\n${serverBlock}\n}\n`,
  );
  return spawn("nginx", ["-p", prefix, "-c", path.join(prefix, "nginx.conf"), "-e", path.join(prefix, "error.log")], { stdio: "inherit" });
}

interface WrkResult {
  rps: number;
  p99ms: number;
  /** The serving process's CPU time per request (µs), from /proc: little skewed by other load. */
  cpuUs: number;
}


/** nginx's single worker: the master's only child (waits for the master to fork it). */
async function nginxWorker(master: number): Promise<number> {
  for (let i = 0; i < 100; i++) {
    const children = readFileSync(`/proc/${master}/task/${master}/children`, "utf8").trim().split(/\s+/).filter(Boolean);
    if (children.length === 1) return Number(children[0]);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`nginx (pid ${master}) did not start exactly one worker`);
}

async function measure(port: number, pid: number): Promise<WrkResult> {
  const before = cpuTicks(pid);
  const r = await wrk(port);
  const ticks = cpuTicks(pid) - before;
  return { ...r, cpuUs: (ticks * 1e6) / CLOCK_TICKS_PER_SECOND / r.requests };
}

function wrk(port: number): Promise<{ rps: number; p99ms: number; requests: number }> {
  const args = ["-t1", `-c${connections}`, `-d${seconds}s`, "--latency", "-H", `Host: ${HOST}`, `https://127.0.0.1:${port}/`];
  return new Promise((resolve, reject) => {
    execFile("wrk", args, (err, stdout) => {
      if (err) return reject(err);
      const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(stdout)?.[1]);
      const p99 = /99%\s+([\d.]+)(us|ms|s)/.exec(stdout);
      const errors = /Non-2xx or 3xx responses: (\d+)|Socket errors: .*/.exec(stdout);
      if (errors) return reject(new Error(`wrk saw errors:\n${stdout}`));
      const scale = { us: 0.001, ms: 1, s: 1000 }[p99![2] as "us" | "ms" | "s"];
      const requests = Number(/(\d+) requests in/.exec(stdout)?.[1]);
      resolve({ rps, p99ms: Number(p99![1]) * scale, requests });
    });
  });
}


async function main(): Promise<void> {
  const pki = makeTestPki([HOST, "127.0.0.1"]);
  writeFileSync(path.join(pki.dir, "leaf.key"), pki.key);
  const [upstreamPort, nginxPort] = await Promise.all([freePort(), freePort()]);
  const children: ChildProcess[] = [];
  try {
    children.push(startNginx(pki.dir, "upstream", `  server { listen 127.0.0.1:${upstreamPort}; location / { default_type text/plain; return 200 "${BODY}"; } }`));
    const nginxProxy = startNginx(
        pki.dir,
        "proxy",
        `  upstream app { server 127.0.0.1:${upstreamPort}; keepalive 32; }
  server {
    listen 127.0.0.1:${nginxPort} ssl http2;
    ssl_certificate ${path.join(pki.dir, "leaf.pem")};
    ssl_certificate_key ${path.join(pki.dir, "leaf.key")};
    ssl_protocols TLSv1.2 TLSv1.3;
    server_tokens off;
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
      );
    children.push(nginxProxy);
    const config = { log: { access: "off" }, sites: [{ hosts: [HOST], proxy: `http://127.0.0.1:${upstreamPort}` }] };
    const startChild = async (script: string, args: string[]): Promise<{ port: number; pid: number }> => {
      const child = spawn(process.execPath, [fileURLToPath(new URL(script, import.meta.url)), ...args], { stdio: ["ignore", "pipe", "inherit"] });
      children.push(child);
      return new Promise((resolve, reject) => {
        // The ports line; padlock's own log lines (e.g. the running-as-root warning) may come first.
        let seen = "";
        child.stdout!.on("data", (chunk: Buffer) => {
          seen += chunk.toString();
          const line = seen.split("\n").find((l) => l.includes('"https"'));
          if (line) resolve({ port: (JSON.parse(line) as { https: number }).https, pid: child.pid! });
        });
        child.once("exit", (code) => reject(new Error(`${script} exited with ${code}`)));
      });
    };
    const keyFile = path.join(pki.dir, "leaf.key");
    const certFile = path.join(pki.dir, "leaf.pem");
    await Promise.all([waitForPort(upstreamPort), waitForPort(nginxPort)]);
    const servers = {
      padlock: await startChild("./padlock-child.js", [JSON.stringify(config), keyFile, certFile, `${HOST},127.0.0.1`]),
      nginx: { port: nginxPort, pid: await nginxWorker(nginxProxy.pid!) },
      "node-ceiling": await startChild("./node-ceiling.js", [keyFile, certFile]),
    };
    const ports = Object.fromEntries(Object.entries(servers).map(([k, v]) => [k, v.port])) as Record<keyof typeof servers, number>;

    type Who = keyof typeof servers;
    const contestants = Object.keys(servers) as Who[];
    // Warm-up: JIT, connection pools, TLS session caches.
    for (const who of contestants) await wrk(ports[who]);
    const results = Object.fromEntries(contestants.map((w) => [w, [] as WrkResult[]])) as Record<Who, WrkResult[]>;
    for (let round = 0; round < rounds; round++) {
      // Rotate the order each round so drift in the machine's load hits everyone alike.
      const order = contestants.map((_, i) => contestants[(i + round) % contestants.length]!);
      for (const who of order) {
        const r = await measure(servers[who].port, servers[who].pid);
        results[who].push(r);
        console.log(`round ${round + 1} ${who.padEnd(12)} ${r.rps.toFixed(0).padStart(7)} req/s  p99 ${r.p99ms.toFixed(2).padStart(7)} ms  ${r.cpuUs.toFixed(1).padStart(6)} µs CPU/request`);
      }
    }
    const summary = (who: Who) => ({ rps: median(results[who].map((r) => r.rps)), p99: median(results[who].map((r) => r.p99ms)), cpu: median(results[who].map((r) => r.cpuUs)) });
    const [p, n, c] = [summary("padlock"), summary("nginx"), summary("node-ceiling")];
    console.log(`\nmedian of ${rounds} rounds, ${seconds}s each, ${connections} keep-alive HTTPS connections (wrk -t1), 1 KiB responses:`);
    const line = (label: string, r: typeof p) => console.log(`${label} ${r.rps.toFixed(0).padStart(6)} req/s, p99 ${r.p99.toFixed(2).padStart(7)} ms, ${r.cpu.toFixed(1).padStart(6)} µs CPU/request`);
    line("padlock (proxy):           ", p);
    line("nginx (proxy, 1 worker):   ", n);
    line("bare Node HTTPS (no proxy):", c);
    console.log(`ratio padlock/nginx: throughput ${(p.rps / n.rps).toFixed(2)} (target >= 0.70), p99 latency ${(p.p99 / n.p99).toFixed(2)} (lower is better)`);
    console.log(`ratio from CPU per request (nginx/padlock, less skewed by other load): ${(n.cpu / p.cpu).toFixed(2)}`);
    console.log(`ratio bare Node/nginx: throughput ${(c.rps / n.rps).toFixed(2)}, CPU ${(n.cpu / c.cpu).toFixed(2)} (the ceiling for anything built on Node here)`);
    console.log(`machine load average: ${os.loadavg().map((l) => l.toFixed(2)).join(" ")}`);
  } finally {
    for (const c of children) c.kill("SIGTERM");
  }
}

await main();
