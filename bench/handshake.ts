// bench/handshake: every request on a new TLS connection, padlock beside raw Node, nginx and
// Caddy in one run: full handshakes, then returning clients (each offering the newest TLS 1.3
// session ticket it got, once, as browsers do; the table says how many connections resumed). Same chain everywhere (padlock's internal
// CA: ECDSA P-256 leaf + intermediate), the same blog page, padlock's TLS policy, access logs
// off. Servers on CPU 0, the load (bench/handshake-load.c, built here with cc) on CPU 1.
//
// Three raw Node servers: node:https (the bare floor), the same renewing TLS 1.3 tickets as
// padlock does (raw Node with full resumption: alone, Node resumes every other returning
// connection), and node:http2 with allowHTTP1 (the listener padlock is built on, without
// padlock's SNI callback or anything else of padlock's), so the table shows what the listener
// costs and what padlock adds to it.
//
//   node dist/bench/handshake.js [rounds=3] [seconds=2] [connections=32]
// Needs gcc, libssl-dev, nginx, caddy and the corpus in ../shared/corpus.
import os from "node:os";
import { freePort, tempDir } from "../test/support/env.js";
import {
  PAGE,
  buildHandshakeLoad,
  caddyTls,
  loadAverage,
  measure,
  nginxTls,
  padlockChain,
  prepareBlog,
  runLoad,
  startCaddy,
  startNginx,
  startPadlock,
  startRawNode,
  stop,
  table,
  type LoadResult,
  type Measurement,
  type Server,
} from "./peers.js";
import { median } from "./stats.js";

const [rounds = 3, seconds = 2, connections = 32] = process.argv.slice(2).map(Number);
const SERVERNAME = "bench.test";
type Mode = "full" | "resumed";

const work = tempDir("bench-handshake");
const servers: Server[] = [];
try {
  const load = buildHandshakeLoad(work.dir);
  const chain = await padlockChain(work.dir, [SERVERNAME, "127.0.0.1"]);
  const blog = await prepareBlog(work.dir, chain);
  const nginxPort = await freePort();
  servers.push(
    await startPadlock(blog.config, chain),
    await startRawNode("https", chain, blog.answer),
    await startRawNode("https-tickets", chain, blog.answer),
    await startRawNode("http2", chain, blog.answer),
    await startNginx(work.dir, "nginx", `  server {\n    listen 127.0.0.1:${nginxPort} ssl http2;\n    ${nginxTls(chain)}\n    root ${blog.root};\n  }`),
    await startCaddy(work.dir, (port) => `https://${SERVERNAME}:${port} {\n  ${caddyTls(chain)}\n  root * ${blog.root}\n  file_server\n}`),
  );

  const connect = async (s: Server, mode: Mode, time = seconds): Promise<LoadResult & { resumed: number; counted: number }> => {
    const out = await runLoad(load, ["127.0.0.1", String(s.port), SERVERNAME, PAGE, mode, String(connections), String(time)]);
    const r = JSON.parse(out) as { connections: number; rate: number; p50_ms: number; p99_ms: number; resumed: number; errors: number; completed: number };
    if (r.errors > 0) throw new Error(`${s.name}: ${r.errors} failed connections (${mode})`);
    if (r.connections === 0 && time === seconds) throw new Error(`${s.name}: no connection completed within ${time} s (${mode})`);
    return { rps: r.rate, p50ms: r.p50_ms, p99ms: r.p99_ms, requests: r.completed, resumed: r.resumed, counted: r.connections };
  };
  console.log(
    `bench/handshake: one TLS connection per request (GET ${PAGE}, Connection: close), ${connections} at a time, ${rounds} rounds of ${seconds} s per server and mode; ` +
      `servers pinned to CPU 0, load to CPU 1; ${os.cpus().length} CPUs, load average ${loadAverage()}`,
  );
  for (const s of servers) await connect(s, "full", 1); // warm-up: compiled code (each run also warms up for 1 s first)
  const results: Record<Mode, Map<string, Measurement[]>> = { full: new Map(), resumed: new Map() };
  /**
   * Per server, the share of connections that did resume. Each client offers the newest ticket
   * it holds and uses a ticket once, as browsers do with TLS 1.3 tickets: a server that sends no
   * new ticket on a resumed connection gets a full handshake on the next one.
   */
  const resumedShare = new Map<string, number[]>();
  for (let round = 0; round < rounds; round++) {
    for (const mode of ["full", "resumed"] as const) {
      for (let i = 0; i < servers.length; i++) {
        const s = servers[(i + round) % servers.length]!;
        let resumed = 0;
        let counted = 0;
        const m = await measure(s, async () => {
          const r = await connect(s, mode);
          [resumed, counted] = [r.resumed, r.counted];
          return r;
        });
        if (mode === "full" && resumed > 0) throw new Error(`${s.name}: ${resumed} connections resumed in the full-handshake run`);
        if (!results[mode].has(s.name)) results[mode].set(s.name, []);
        results[mode].get(s.name)!.push(m);
        if (mode === "resumed") {
          if (!resumedShare.has(s.name)) resumedShare.set(s.name, []);
          resumedShare.get(s.name)!.push(resumed / counted);
        }
        const share = mode === "resumed" ? `  ${((100 * resumed) / counted).toFixed(0)} % resumed` : "";
        console.log(`  round ${round + 1} ${mode.padEnd(7)} ${s.name.padEnd(18)} ${m.rps.toFixed(0).padStart(6)} conn/s  p50 ${m.p50ms.toFixed(2)} ms  p99 ${m.p99ms.toFixed(2)} ms  ${m.cpuUs.toFixed(0)} µs CPU/conn${share}`);
      }
    }
  }
  console.log(`\n${table(`Full TLS handshake per request, ${connections} clients, median of ${rounds} rounds (req/s = connections/s)`, results.full)}`);
  const share = (name: string) => `${(100 * median(resumedShare.get(name) ?? [])).toFixed(0)} %`;
  console.log(`\n${table(`Returning clients: TLS 1.3 session ticket offered on every connection, ${connections} clients, median of ${rounds} rounds`, results.resumed, { resumed: share })}`);
  console.log(`\nload average at the end: ${loadAverage()}`);
} finally {
  await Promise.all(servers.map(stop));
  work.remove();
}
