// What bench/serve, bench/proxy and bench/handshake share: one certificate chain for every
// server, padlock and its peers (raw Node, nginx, Caddy) started side by side with equivalent
// settings, each pinned to CPU 0 while the load tools run on CPU 1, and the table of medians.
//
// Equivalent settings: TLS 1.2 and 1.3 with padlock's ciphers and groups (src/tls/tls-policy.ts),
// the client's cipher order, session tickets on, one worker (nginx worker_processes 1, Caddy
// GOMAXPROCS=1, Node's one thread), access logs off everywhere.
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import https from "node:https";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { InternalCa } from "../src/tls/internal-ca.js";
import { FolderKeyFileStore } from "../src/tls/key-files.js";
import { TLS_CIPHERS, TLS_GROUPS, SESSION_LIFETIME_S } from "../src/tls/tls-policy.js";
import { freePort } from "../test/support/env.js";
import { median } from "./stats.js";
import { CLOCK_TICKS_PER_SECOND, cpuTicks } from "./process-cpu.js";

const here = path.dirname(fileURLToPath(import.meta.url));
/** The servers under test run on this CPU, the load tools on the other. */
export const SERVER_CPU = "0";
export const LOAD_CPU = "1";

export interface Chain {
  keyFile: string;
  /** Leaf then intermediate, as padlock serves its certificates. */
  chainFile: string;
  rootFile: string;
  names: string[];
}

/**
 * A leaf (ECDSA P-256) and intermediate from padlock's internal CA, as padlock issues them for an
 * internal site: the one certificate every server in a bench presents.
 */
export async function padlockChain(dir: string, names: string[]): Promise<Chain> {
  const ca = await InternalCa.open(new FolderKeyFileStore(path.join(dir, "internal-ca")));
  const issued = await ca.issue(names);
  const chain = { keyFile: path.join(dir, "key.pem"), chainFile: path.join(dir, "chain.pem"), rootFile: path.join(dir, "root.pem"), names };
  writeFileSync(chain.keyFile, issued.keyPem, { mode: 0o600 });
  writeFileSync(chain.chainFile, issued.chainPem);
  writeFileSync(chain.rootFile, ca.rootCertificatePem);
  // nginx's workers and Caddy read them too.
  chmodSync(dir, 0o755);
  return chain;
}

export interface Server {
  name: string;
  port: number;
  /** The process doing the work (nginx: its worker), for CPU time and resident memory. */
  pid: number;
  child: ChildProcess;
}

function pinned(command: string, args: string[], env?: NodeJS.ProcessEnv): ChildProcess {
  return spawn("taskset", ["-c", SERVER_CPU, command, ...args], { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...env } });
}

/** Starts a Node script of this folder that prints its HTTPS port as a JSON line ({"https": N}). */
async function nodeServer(name: string, script: string, args: string[], nodeFlags: string[] = []): Promise<Server> {
  const child = pinned(process.execPath, [...nodeFlags, path.join(here, script), ...args]);
  const port = await new Promise<number>((resolve, reject) => {
    let seen = "";
    child.stderr!.on("data", (c: Buffer) => process.stderr.write(`[${name}] ${c}`));
    child.stdout!.on("data", (chunk: Buffer) => {
      seen += chunk.toString();
      const line = seen.split("\n").find((l) => l.includes('"https"'));
      if (line) resolve((JSON.parse(line) as { https: number }).https);
    });
    child.once("exit", (code) => reject(new Error(`${name} (${script}) exited with ${code}:\n${seen}`)));
  });
  child.stdout!.resume();
  return { name, port, pid: child.pid!, child };
}

/** The V8 setting bin/padlock makes before loading padlock (its young generation keeps its starting size). */
const PADLOCK_NODE_FLAGS = process.env.BENCH_PADLOCK_DEFAULT_V8 ? [] : ["--semi-space-growth-factor=1"];

/** padlock in its own process, serving `config` (JSON) with the chain installed as its certificate. */
export function startPadlock(config: object, chain: Chain): Promise<Server> {
  return nodeServer("padlock", "padlock-child.js", [JSON.stringify(config), chain.keyFile, chain.chainFile, chain.names.join(",")], PADLOCK_NODE_FLAGS);
}

/** A bare Node server (bench/raw-node-server.ts) of the given kind, under padlock's TLS policy. */
export function startRawNode(kind: "https" | "https-tickets" | "http2", chain: Chain, answer: RawAnswer): Promise<Server> {
  const name = { https: "node:https", "https-tickets": "node:https+tickets", http2: "node:http2" }[kind];
  return nodeServer(name, "raw-node-server.js", [kind, chain.keyFile, chain.chainFile, JSON.stringify(answer)]);
}

/** What a raw Node server answers to every request: a body file and header fields. */
export interface RawAnswer {
  bodyFile: string;
  headers: Record<string, string>;
}

/** The TLS settings of nginx's server blocks: padlock's policy in nginx's words. */
export function nginxTls(chain: Chain): string {
  const tls12 = TLS_CIPHERS.split(":").filter((c) => !c.startsWith("TLS_"));
  const tls13 = TLS_CIPHERS.split(":").filter((c) => c.startsWith("TLS_"));
  return [
    `ssl_certificate ${chain.chainFile};`,
    `ssl_certificate_key ${chain.keyFile};`,
    "ssl_protocols TLSv1.2 TLSv1.3;",
    `ssl_ciphers ${tls12.join(":")};`,
    `ssl_conf_command Ciphersuites ${tls13.join(":")};`,
    `ssl_ecdh_curve ${TLS_GROUPS.replace("P-256", "prime256v1").replace("P-384", "secp384r1")};`,
    "ssl_prefer_server_ciphers off;",
    "ssl_session_tickets on;",
    `ssl_session_timeout ${SESSION_LIFETIME_S}s;`,
  ].join("\n    ");
}

/** nginx with one worker, access log off, the given server blocks; pid is the worker's. */
export async function startNginx(dir: string, name: string, servers: string, cpu = SERVER_CPU): Promise<Server & { port: number }> {
  const prefix = path.join(dir, name);
  mkdirSync(prefix, { recursive: true });
  const port = Number(/listen 127\.0\.0\.1:(\d+)/.exec(servers)?.[1]);
  const temp = ["client_body", "proxy", "fastcgi", "uwsgi", "scgi"].map((t) => `${t}_temp_path ${prefix}/${t};`).join("\n  ");
  writeFileSync(
    path.join(prefix, "nginx.conf"),
    `worker_processes 1;\ndaemon off;\npid ${prefix}/nginx.pid;\nerror_log ${prefix}/error.log warn;\nevents { worker_connections 4096; }\nhttp {\n  access_log off;\n  server_tokens off;\n  include /etc/nginx/mime.types;\n  keepalive_requests 1000000;\n  ${temp}\n${servers}\n}\n`,
  );
  const child = spawn("taskset", ["-c", cpu, "nginx", "-p", prefix, "-c", path.join(prefix, "nginx.conf"), "-e", path.join(prefix, "error.log")], { stdio: ["ignore", "ignore", "inherit"] });
  await waitForPort(port);
  return { name: "nginx", port, pid: await onlyChild(child.pid!), child };
}

/** Caddy on one core (GOMAXPROCS=1), admin API and HTTP/3 off, access log off (Caddy's default). */
export async function startCaddy(dir: string, siteBlock: (port: number) => string): Promise<Server> {
  const home = path.join(dir, "caddy");
  mkdirSync(home, { recursive: true });
  const [port, httpPort] = [await freePort(), await freePort()];
  const caddyfile = path.join(home, "Caddyfile");
  writeFileSync(
    caddyfile,
    `{\n  admin off\n  auto_https disable_redirects\n  http_port ${httpPort}\n  skip_install_trust\n  storage file_system ${home}/data\n  servers {\n    protocols h1 h2\n  }\n}\n${siteBlock(port)}\n`,
  );
  const child = pinned("caddy", ["run", "--config", caddyfile, "--adapter", "caddyfile"], { GOMAXPROCS: "1", HOME: home, XDG_DATA_HOME: home, XDG_CONFIG_HOME: home });
  child.stdout!.resume();
  let log = "";
  child.stderr!.on("data", (c: Buffer) => (log += c.toString()));
  const exited = once(child, "exit").then(([code]) => {
    throw new Error(`caddy exited with ${code}:\n${log}`);
  });
  await Promise.race([waitForPort(port), exited]);
  exited.catch(() => {});
  return { name: "caddy", port, pid: child.pid!, child };
}

/** Caddy's TLS settings for a site block, in its words: the same chain, TLS 1.2 and 1.3, padlock's groups. */
export function caddyTls(chain: Chain): string {
  return `tls ${chain.chainFile} ${chain.keyFile} {\n    protocols tls1.2 tls1.3\n    curves x25519 secp256r1 secp384r1\n  }`;
}

export async function stop(server: { child: ChildProcess } | undefined): Promise<void> {
  const child = server?.child;
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, "exit");
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
  await exited;
  clearTimeout(timer);
}

export async function waitForPort(port: number): Promise<void> {
  for (let i = 0; i < 400; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, "127.0.0.1", () => (s.destroy(), resolve(true)));
      s.on("error", () => resolve(false));
    });
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`nothing listens on ${port}`);
}

/** The single child of a process (nginx's worker), once it has forked it. */
async function onlyChild(parent: number): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const children = readFileSync(`/proc/${parent}/task/${parent}/children`, "utf8").trim().split(/\s+/).filter(Boolean);
    if (children.length === 1) return Number(children[0]);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`process ${parent} did not start exactly one child`);
}

/** Resident memory of a process in KiB (VmRSS). */
export function residentKiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1]);
}

/** Runs a load tool on the load CPU; resolves with its standard output. */
export function runLoad(command: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn("taskset", ["-c", LOAD_CPU, command, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (c: Buffer) => (out += c.toString()));
    child.stderr.on("data", (c: Buffer) => (err += c.toString()));
    child.once("exit", (code) => (code === 0 ? resolve(out) : reject(new Error(`${command} ${args.join(" ")} exited with ${code}:\n${out}${err}`))));
  });
}

export interface Measurement {
  rps: number;
  p50ms: number;
  p99ms: number;
  /** The server's CPU time per request in µs (from /proc): far less moved by other processes' load than req/s. */
  cpuUs: number;
}

/** What a load tool reports: the figures, and every request it completed (warm-up included). */
export type LoadResult = Omit<Measurement, "cpuUs"> & { requests: number };

/** Runs a load against a server, adding the server's CPU time per request. */
export async function measure(server: Server, load: () => Promise<LoadResult>): Promise<Measurement> {
  const before = cpuTicks(server.pid);
  const { requests, ...r } = await load();
  const ticks = cpuTicks(server.pid) - before;
  return { ...r, cpuUs: (ticks * 1e6) / CLOCK_TICKS_PER_SECOND / requests };
}

function toMs(value: string, unit: string): number {
  const n = Number(value);
  return unit === "us" ? n / 1000 : unit === "s" ? n * 1000 : n;
}

/** wrk, one thread, keep-alive HTTP/1.1; fails on any non-2xx/3xx answer or socket error. */
export async function wrk(url: string, connections: number, seconds: number, headers: string[] = []): Promise<LoadResult> {
  const out = await runLoad("wrk", ["-t1", `-c${connections}`, `-d${seconds}s`, "--latency", ...headers.flatMap((h) => ["-H", h]), url]);
  if (/Non-2xx or 3xx responses|Socket errors/.test(out)) throw new Error(`wrk saw errors against ${url}:\n${out}`);
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(out);
  const p50 = /^\s+50%\s+([\d.]+)(us|ms|s)\s*$/m.exec(out);
  const p99 = /^\s+99%\s+([\d.]+)(us|ms|s)\s*$/m.exec(out);
  if (!rps || !p50 || !p99) throw new Error(`cannot read wrk's output:\n${out}`);
  return { rps: Number(rps[1]), p50ms: toMs(p50[1]!, p50[2]!), p99ms: toMs(p99[1]!, p99[2]!), requests: Number(/(\d+) requests in/.exec(out)?.[1]) };
}

/**
 * h2load over HTTP/2 (or HTTP/1.1 with `h1`): `clients` connections, `streams` requests in flight
 * on each; latency from its per-request log (h2load itself prints no percentiles).
 */
export async function h2load(url: string, o: { clients: number; streams: number; seconds: number; h1?: boolean; dir: string }): Promise<LoadResult> {
  const logFile = path.join(o.dir, `h2load-${process.pid}.log`);
  const out = await runLoad("h2load", [...(o.h1 ? ["--h1"] : []), "-t1", `-c${o.clients}`, `-m${o.streams}`, "-D", String(o.seconds), "--log-file", logFile, url]);
  const done = /requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored/.exec(out);
  const status = /status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx/.exec(out);
  if (!done || !status || Number(done[5]) + Number(done[6]) > 0 || Number(status[3]) + Number(status[4]) > 0) throw new Error(`h2load saw errors against ${url}:\n${out}`);
  const rps = Number(/finished in [\d.]+\w*, ([\d.]+) req\/s/.exec(out)?.[1]);
  const times = readFileSync(logFile, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => Number(l.split("\t")[2]) / 1000)
    .sort((a, b) => a - b);
  return { rps, p50ms: times[Math.floor(times.length * 0.5)]!, p99ms: times[Math.floor(times.length * 0.99)]!, requests: Number(done[3]) };
}

/** Medians of a server's rounds. */
export function medians(rounds: Measurement[]): Measurement {
  return { rps: median(rounds.map((r) => r.rps)), p50ms: median(rounds.map((r) => r.p50ms)), p99ms: median(rounds.map((r) => r.p99ms)), cpuUs: median(rounds.map((r) => r.cpuUs)) };
}

/**
 * A markdown table: each server's medians, and padlock's throughput ratio to it, from req/s and
 * from CPU time per request (each the median of the per-round ratios: each round measures all
 * servers back to back, so slow drifts in the machine's load cancel out). On a busy machine the
 * CPU ratio is the steadier: another process taking the server's core lowers req/s, not CPU/req.
 */
export function table(title: string, results: Map<string, Measurement[]>, extra: Record<string, (name: string) => string> = {}): string {
  const ours = results.get("padlock");
  const lines = [
    `### ${title}`,
    "",
    `| server | req/s | p50 ms | p99 ms | padlock ÷ server (req/s) | CPU µs/req | padlock ÷ server (by CPU) |${Object.keys(extra).map((k) => ` ${k} |`).join("")}`,
    `|---|---:|---:|---:|---:|---:|---:|${Object.keys(extra).map(() => "---:|").join("")}`,
  ];
  for (const [name, rounds] of results) {
    const m = medians(rounds);
    const [ratio, cpuRatio] = ours && name !== "padlock" ? [median(ours.map((r, i) => r.rps / rounds[i]!.rps)).toFixed(2), median(ours.map((r, i) => rounds[i]!.cpuUs / r.cpuUs)).toFixed(2)] : ["", ""];
    lines.push(`| ${name} | ${m.rps.toFixed(0)} | ${m.p50ms.toFixed(2)} | ${m.p99ms.toFixed(2)} | ${ratio} | ${m.cpuUs.toFixed(0)} | ${cpuRatio} |${Object.values(extra).map((f) => ` ${f(name)} |`).join("")}`);
  }
  return lines.join("\n");
}

export function loadAverage(): string {
  return os.loadavg().map((l) => l.toFixed(2)).join(" ");
}

/** Compiles bench/handshake-load.c (gcc and libssl-dev) into `dir`. */
export function buildHandshakeLoad(dir: string): string {
  const binary = path.join(dir, "handshake-load");
  execFileSync("cc", ["-O2", "-o", binary, path.join(here, "../../bench/handshake-load.c"), "-lssl", "-lcrypto"], { stdio: "inherit" });
  return binary;
}

const corpus = path.resolve(here, "../../../shared/corpus/flask_site");
/** The blog page every server answers (about 30 KB of HTML). */
export const PAGE = "/posts/making_of_7/";

export interface Blog {
  /** padlock's config: the corpus as a blog, on the chain's names, access log off. */
  config: object;
  /** The page padlock rendered and the header fields it sent with it, for the raw Node servers. */
  answer: RawAnswer;
  /** A folder with the page at PAGE + index.html, for nginx's and Caddy's file servers. */
  root: string;
}

/**
 * Renders the blog once in padlock and keeps what it answered for PAGE (identity encoding, as
 * the load tools ask), so that every server sends the same bytes.
 */
export async function prepareBlog(dir: string, chain: Chain): Promise<Blog> {
  if (!existsSync(corpus)) throw new Error(`corpus not found at ${corpus}`);
  const config = {
    log: { access: "off" },
    sites: [
      {
        hosts: chain.names,
        blog: corpus,
        routes: [
          { path: "/dp_sim/", name: "dp_sim", proxy: "http://127.0.0.1:9" },
          { path: "/covid_graph/", name: "covid_graph", proxy: "http://127.0.0.1:9" },
        ],
      },
    ],
  };
  const padlock = await startPadlock(config, chain);
  try {
    const page = await get(padlock.port, chain.names[0]!, PAGE, readFileSync(chain.rootFile, "utf8"));
    if (page.status !== 200) throw new Error(`padlock answered ${page.status} for ${PAGE}`);
    const root = path.join(dir, "site");
    mkdirSync(path.join(root, PAGE), { recursive: true });
    const bodyFile = path.join(root, PAGE, "index.html");
    writeFileSync(bodyFile, page.body);
    const ownedByNode = new Set(["date", "connection", "keep-alive", "content-length", "transfer-encoding"]);
    const headers = Object.fromEntries(Object.entries(page.headers).filter(([name]) => !ownedByNode.has(name))) as Record<string, string>;
    chmodSync(dir, 0o755);
    return { config, answer: { bodyFile, headers }, root };
  } finally {
    await stop(padlock);
  }
}

function get(port: number, servername: string, pathname: string, ca: string): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = https.request({ host: "127.0.0.1", port, servername, path: pathname, headers: { host: servername, "accept-encoding": "identity" }, ca, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on("error", reject);
    req.end();
  });
}
