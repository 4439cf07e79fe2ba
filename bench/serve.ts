// bench/serve: how fast padlock answers a rendered page, against the floor — a minimal node:http
// server answering the same bytes from memory (the page and the header fields padlock sent with
// it: type, validators, cache policy) — in the same run, plus start-up render time for the
// corpus and for a generated 1,000-post site.
//
// Load generator: wrk (C, one thread, keep-alive HTTP/1.1, --latency for percentiles). On a
// 2-core machine a JavaScript load generator would compete with the server for CPU and measure
// itself; wrk's one thread leaves the other core to the server under test. Nothing is pinned to
// a CPU: a pinned server shares its CPU with its own helper threads (garbage collector, the log's
// writes), which the scheduler would otherwise run on the other.
//
// Plain HTTP on both sides (the site has tls disabled, so padlock does not redirect to HTTPS).
//
// Run: npx tsc -p . && node dist/bench/serve.js   (needs wrk and ../shared/corpus)
import { spawn, execFile, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { promisify } from "node:util";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { generateSite } from "./generate-site.js";
import { padlockBin } from "../test/support/padlock-process.js";
import { CLOCK_TICKS_PER_SECOND, cpuTicks } from "./process-cpu.js";
import { median } from "./stats.js";

const run = promisify(execFile);
const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, "../..");
const corpus = path.resolve(repoRoot, "../shared/corpus/flask_site");
const PAGE = "/posts/making_of_7/";
const ROUNDS = Number(process.env.ROUNDS ?? 10);
const DURATION = process.env.DURATION ?? "2s";
const CONNECTIONS = Number(process.env.CONNECTIONS ?? 32);
const NAMED_ROUTES = { dp_sim: "/dp_sim/", covid_graph: "/covid_graph/" };

interface Result {
  rps: number;
  p99ms: number;
  /** Server CPU time per request (µs), from /proc: little affected by other processes' load. */
  cpuUsPerRequest: number;
}


async function startProcess(args: string[], portPattern: RegExp): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no port from ${args.join(" ")}:\n${out}`)), 20_000);
    const onData = (c: Buffer) => {
      out += String(c);
      const m = portPattern.exec(out);
      if (m) {
        clearTimeout(timer);
        // From here on the output (padlock's access log: a line per request) is drained
        // unread: collecting and scanning it would cost this process CPU during the runs.
        child.stdout!.off("data", onData);
        child.stderr!.off("data", onData);
        child.stdout!.resume();
        child.stderr!.resume();
        resolve(Number(m[1]));
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.once("exit", (code) => reject(new Error(`exited ${code}:\n${out}`)));
  });
  return { child, port };
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, "exit");
  child.kill("SIGTERM");
  await exited;
}

function toMs(value: string, unit: string): number {
  const n = Number(value);
  return unit === "us" ? n / 1000 : unit === "s" ? n * 1000 : n;
}

async function wrk(port: number, pid: number, duration: string): Promise<Result> {
  const ticksBefore = cpuTicks(pid);
  const { stdout } = await run("wrk", ["-t1", `-c${CONNECTIONS}`, `-d${duration}`, "--latency", `http://127.0.0.1:${port}${PAGE}`]);
  const ticks = cpuTicks(pid) - ticksBefore;
  const total = /(\d+) requests in/.exec(stdout);
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(stdout);
  const p99 = /^\s+99%\s+([\d.]+)(us|ms|s)\s*$/m.exec(stdout);
  if (!rps || !p99) throw new Error(`cannot read wrk output:\n${stdout}`);
  if (/Non-2xx or 3xx responses/.test(stdout)) throw new Error(`wrong answers during the run:\n${stdout}`);
  const socketErrors = /Socket errors: (.*)/.exec(stdout);
  if (socketErrors) console.log(`  (wrk socket errors on port ${port}: ${socketErrors[1]})`);
  return { rps: Number(rps[1]), p99ms: toMs(p99[1]!, p99[2]!), cpuUsPerRequest: (ticks * 1e6) / CLOCK_TICKS_PER_SECOND / Number(total?.[1] ?? NaN) };
}


async function renderTime(dir: string, routes?: Record<string, string>): Promise<{ ms: number; cpuMs: number; pages: number }> {
  const samples: { ms: number; cpuMs: number; pages: number }[] = [];
  for (let i = 0; i < 3; i++) {
    const args = [path.join(here, "render-time.js"), dir, ...(routes ? [JSON.stringify(routes)] : [])];
    const { stdout } = await run(process.execPath, args);
    samples.push(JSON.parse(stdout) as { ms: number; cpuMs: number; pages: number });
  }
  return { ms: median(samples.map((s) => s.ms)), cpuMs: median(samples.map((s) => s.cpuMs)), pages: samples[0]!.pages };
}

async function main(): Promise<void> {
  if (!fs.existsSync(corpus)) throw new Error(`corpus not found at ${corpus}`);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "padlock-bench-serve-"));
  const children: ChildProcess[] = [];
  try {
    const config = path.join(tmp, "padlock.yaml");
    fs.writeFileSync(
      config,
      `sites:\n  - hosts: [127.0.0.1]\n    blog: ${JSON.stringify(corpus)}\n    tls: { enabled: false }\n    routes:\n      - { path: /dp_sim/, name: dp_sim, proxy: "http://127.0.0.1:9" }\n      - { path: /covid_graph/, name: covid_graph, proxy: "http://127.0.0.1:9" }\n`,
    );
    const padlockArgs = [padlockBin, "serve", "--config", config, "--http-port", "0", "--https-port", "0", "--listen", "127.0.0.1", "--log-format", "json"];
    const startPadlock = () => startProcess(padlockArgs, /serving http:\/\/[^:]+:(\d+)/);
    const first = await startPadlock();
    children.push(first.child);
    // What wrk gets: it sends no Accept-Encoding, so the identity variant.
    const page = await fetch(`http://127.0.0.1:${first.port}${PAGE}`, { headers: { "accept-encoding": "identity" } });
    const body = Buffer.from(await page.arrayBuffer());
    await stop(first.child);
    if (page.status !== 200) throw new Error(`padlock answered ${page.status} for ${PAGE}`);
    const bodyFile = path.join(tmp, "page.html");
    fs.writeFileSync(bodyFile, body);
    // The baseline answers the same bytes: the body and the header fields padlock sent with it.
    const headersFile = path.join(tmp, "headers.json");
    const ownedByNodeHttp = new Set(["date", "connection", "keep-alive", "content-length", "transfer-encoding"]);
    const sentHeaders = Object.fromEntries([...page.headers].filter(([name]) => !ownedByNodeHttp.has(name)));
    fs.writeFileSync(headersFile, JSON.stringify(sentHeaders));
    const startBaseline = () => startProcess([path.join(here, "baseline-server.js"), bodyFile, headersFile], /listening (\d+)/);

    console.log(
      `bench/serve: GET ${PAGE} (${fs.statSync(bodyFile).size} bytes; header fields ${Object.keys(sentHeaders).join(", ")}), ` +
        `wrk -t1 -c${CONNECTIONS} -d${DURATION}, ${ROUNDS} rounds of fresh processes, ${os.cpus().length} CPUs`,
    );
    const ours: Result[] = [];
    const floor: Result[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      // Fresh processes each round: how a process lands (CPU, memory layout, compiler timing)
      // moves its speed by ±10 % here, and one pair of processes would carry its luck into every round.
      const servers = { padlock: await startPadlock(), baseline: await startBaseline() };
      children.push(servers.padlock.child, servers.baseline.child);
      for (const server of Object.values(servers)) await wrk(server.port, server.child.pid!, "1s"); // warm-up: compiled code
      // Alternate the order so drift in machine load hits both alike.
      const order = round % 2 ? (["padlock", "baseline"] as const) : (["baseline", "padlock"] as const);
      for (const which of order) {
        const server = servers[which];
        const r = await wrk(server.port, server.child.pid!, DURATION);
        (which === "padlock" ? ours : floor).push(r);
        console.log(`  round ${round} ${which.padEnd(8)} ${r.rps.toFixed(0).padStart(7)} req/s  p99 ${r.p99ms.toFixed(2)} ms  ${r.cpuUsPerRequest.toFixed(1)} µs CPU/request`);
      }
      // Gone before the next round starts: a padlock still shutting down would take CPU from it.
      for (const server of Object.values(servers)) await stop(server.child);
    }
    const rps = { padlock: median(ours.map((r) => r.rps)), baseline: median(floor.map((r) => r.rps)) };
    const p99 = { padlock: median(ours.map((r) => r.p99ms)), baseline: median(floor.map((r) => r.p99ms)) };
    // Each round's two runs are back to back, so their ratio cancels slow drifts in machine load.
    const pairedRps = median(ours.map((r, i) => r.rps / floor[i]!.rps));
    const pairedP99 = median(ours.map((r, i) => r.p99ms / floor[i]!.p99ms));
    console.log(`requests/s  padlock ${rps.padlock.toFixed(0)}  node:http ${rps.baseline.toFixed(0)}  ratio ${(rps.padlock / rps.baseline).toFixed(3)}, median of per-round ratios ${pairedRps.toFixed(3)} (target >= 0.85)`);
    const cpu = { padlock: median(ours.map((r) => r.cpuUsPerRequest)), baseline: median(floor.map((r) => r.cpuUsPerRequest)) };
    console.log(`CPU/request padlock ${cpu.padlock.toFixed(1)} µs  node:http ${cpu.baseline.toFixed(1)} µs  throughput this implies ${(cpu.baseline / cpu.padlock).toFixed(3)} of node:http's`);
    console.log(`p99 latency padlock ${p99.padlock.toFixed(2)} ms  node:http ${p99.baseline.toFixed(2)} ms  ratio ${(p99.padlock / p99.baseline).toFixed(3)}, median of per-round ratios ${pairedP99.toFixed(3)} (lower is better)`);

    const corpusRender = await renderTime(corpus, NAMED_ROUTES);
    console.log(`start-up render, corpus: ${corpusRender.pages} pages in ${corpusRender.ms.toFixed(0)} ms wall, ${corpusRender.cpuMs.toFixed(0)} ms CPU (median of 3 fresh processes)`);
    const generated = path.join(tmp, "generated");
    generateSite(generated, 1000);
    const big = await renderTime(generated);
    console.log(`start-up render, generated 1,000-post site: ${big.pages} pages in ${big.ms.toFixed(0)} ms wall, ${big.cpuMs.toFixed(0)} ms CPU (median of 3 fresh processes; target < 2000 ms)`);
    console.log(`machine load average while measuring: ${os.loadavg().map((l) => l.toFixed(2)).join(" ")} (CPU time is less sensitive to other processes than wall time)`);
  } finally {
    for (const c of children) c.kill("SIGTERM");
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

await main();
