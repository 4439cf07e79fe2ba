// bench/issue: process start → first verified HTTPS response for both names with a certificate
// Pebble just issued (PEBBLE_VA_NOSLEEP=1), from empty storage. padlock beside Caddy and
// certbot + nginx, same Pebble, same machine, same run; median of RUNS (default 7) runs.
//   node dist/bench/issue.js [runs]
import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import { chmodSync, writeFileSync, mkdirSync } from "node:fs";
import path from "node:path";
import https from "node:https";
import { freePort, tempDir } from "../test/support/env.js";
import { startPebble, type Pebble } from "../test/support/pebble.js";
import { padlockBin } from "../test/support/padlock-process.js";
import { median } from "./stats.js";

const NAMES = ["blog.test", "www.blog.test"];
const runs = Number(process.argv[2] ?? 7);

interface Setup {
  pebble: Pebble;
  root: string;
  httpPort: number;
  httpsPort: number;
}

type Contender = { name: string; run: (s: Setup, dir: string) => Promise<number> };

const padlockBreakdown: { order: number; total: number }[] = [];

const contenders: Contender[] = [
  {
    name: "padlock",
    run: async (s, dir) => {
      const config = path.join(dir, "padlock.yaml");
      writeFileSync(
        config,
        JSON.stringify({ ca: s.pebble.directoryUrl, ca_root: s.pebble.apiRootFile, accept_terms: true, storage: path.join(dir, "data"), listen: "127.0.0.1", sites: [{ hosts: NAMES, redirect: "https://elsewhere.test" }] }),
      );
      let log = "";
      const total = await timeUntilServed(s, () => {
        const child = spawn(process.execPath, [padlockBin, "serve", "-c", config, "--http-port", String(s.httpPort), "--https-port", String(s.httpsPort), "--log-format", "json"], { stdio: ["ignore", "pipe", "ignore"] });
        child.stdout!.on("data", (d: Buffer) => (log += d.toString()));
        return child;
      });
      // Where the time goes: padlock's own log says when it was ready to order and how long the order took.
      const lines = log.split("\n").filter(Boolean).map((l) => JSON.parse(l) as { time: string; msg: string });
      const issued = lines.find((l) => /issued in/.test(l.msg));
      if (issued) padlockBreakdown.push({ order: Number(/issued in ([\d.]+) s/.exec(issued.msg)![1]) * 1000, total });
      return total;
    },
  },
  {
    name: "caddy",
    run: async (s, dir) => {
      const caddyfile = path.join(dir, "Caddyfile");
      writeFileSync(
        caddyfile,
        `{
  admin off
  http_port ${s.httpPort}
  https_port ${s.httpsPort}
  acme_ca ${s.pebble.directoryUrl}
  acme_ca_root ${s.pebble.apiRootFile}
  storage file_system ${path.join(dir, "data")}
  skip_install_trust
}
${NAMES.join(", ")} {
  bind 127.0.0.1
  respond "ok"
}
`,
      );
      return timeUntilServed(s, () =>
        spawn("caddy", ["run", "--config", caddyfile, "--adapter", "caddyfile"], { stdio: "ignore", env: { ...process.env, HOME: dir, XDG_DATA_HOME: dir, XDG_CONFIG_HOME: dir } }),
      );
    },
  },
  {
    name: "certbot+nginx",
    run: async (s, dir) => {
      // The usual deployment: nginx serves the webroot on :80, certbot gets the certificate,
      // then nginx is given an HTTPS server block and reloaded.
      const webroot = path.join(dir, "webroot");
      mkdirSync(webroot, { recursive: true });
      // nginx's workers run unprivileged and must read the challenge files certbot writes.
      chmodSync(dir, 0o755);
      const conf = path.join(dir, "nginx.conf");
      const live = path.join(dir, "le", "live", NAMES[0]!);
      const base = (tls: string) => `worker_processes 1; daemon off; pid ${dir}/nginx.pid; error_log ${dir}/error.log;
events {}
http { access_log off; client_body_temp_path ${dir}/tmp; proxy_temp_path ${dir}/tmp; fastcgi_temp_path ${dir}/tmp; uwsgi_temp_path ${dir}/tmp; scgi_temp_path ${dir}/tmp;
  server { listen 127.0.0.1:${s.httpPort}; server_name ${NAMES.join(" ")}; location /.well-known/acme-challenge/ { root ${webroot}; } }
  ${tls}
}`;
      writeFileSync(conf, base(""));
      const started = performance.now();
      const nginx = spawn("nginx", ["-c", conf, "-p", dir], { stdio: "ignore" });
      try {
        await waitForPort(s.httpPort);
        execFileSync(
          "certbot",
          ["certonly", "--non-interactive", "--webroot", "-w", webroot, "--server", s.pebble.directoryUrl, "--agree-tos", "--register-unsafely-without-email",
            "--config-dir", path.join(dir, "le"), "--work-dir", path.join(dir, "work"), "--logs-dir", path.join(dir, "logs"), "--no-random-sleep-on-renew",
            ...NAMES.flatMap((n) => ["-d", n])],
          { stdio: "ignore", env: { ...process.env, REQUESTS_CA_BUNDLE: s.pebble.apiRootFile } },
        );
        writeFileSync(conf, base(`server { listen 127.0.0.1:${s.httpsPort} ssl; server_name ${NAMES.join(" ")}; ssl_certificate ${live}/fullchain.pem; ssl_certificate_key ${live}/privkey.pem; location / { return 200 "ok"; } }`));
        execFileSync("nginx", ["-c", conf, "-p", dir, "-s", "reload"], { stdio: "ignore" });
        await waitUntilServed(s);
        return performance.now() - started;
      } finally {
        await stop(nginx);
      }
    },
  },
];

async function timeUntilServed(s: Setup, start: () => ChildProcess): Promise<number> {
  const started = performance.now();
  const child = start();
  try {
    await waitUntilServed(s, child);
    return performance.now() - started;
  } finally {
    await stop(child);
  }
}

async function waitUntilServed(s: Setup, child?: ChildProcess): Promise<void> {
  const deadline = performance.now() + 30_000;
  const pending = new Set(NAMES);
  while (pending.size > 0) {
    if (child && child.exitCode !== null) throw new Error(`exited with code ${child.exitCode}`);
    if (performance.now() > deadline) throw new Error("not served within 30 s");
    await Promise.all([...pending].map(async (name) => ((await verifiedGet(name, s)) ? pending.delete(name) : undefined)));
    if (pending.size > 0) await new Promise((r) => setTimeout(r, 5));
  }
}

function verifiedGet(name: string, s: Setup): Promise<boolean> {
  return new Promise((resolve) => {
    const req = https.request({ host: "127.0.0.1", port: s.httpsPort, servername: name, headers: { host: name }, ca: s.root, agent: false }, (res) => {
      res.resume();
      res.on("end", () => resolve(true));
    });
    req.on("error", () => resolve(false));
    req.setTimeout(2000, () => req.destroy());
    req.end();
  });
}

async function waitForPort(port: number): Promise<void> {
  const net = await import("node:net");
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, "127.0.0.1", () => (socket.destroy(), resolve(true)));
      socket.on("error", () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 5));
  }
}

function stop(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once("exit", () => resolve());
    child.kill("SIGTERM");
  });
}


const httpPort = await freePort();
const httpsPort = await freePort();
const pebble = await startPebble({ httpPort, tlsPort: httpsPort });
const setup: Setup = { pebble, root: await pebble.issuingRoot(), httpPort, httpsPort };
const results = new Map<string, number[]>(contenders.map((c) => [c.name, []]));
try {
  // Interleaved so that machine noise hits every contender alike.
  for (let i = 0; i < runs; i++) {
    for (const c of contenders) {
      const work = tempDir(`bench-${c.name.replace(/\W/g, "")}`);
      try {
        results.get(c.name)!.push(await c.run(setup, work.dir));
      } catch (err) {
        process.stderr.write(`${c.name} run ${i + 1} failed: ${(err as Error).message}\n`);
      } finally {
        work.remove();
      }
    }
  }
} finally {
  await pebble.stop();
}
const caddy = median(results.get("caddy")!);
console.log(`bench/issue: process start → verified HTTPS for ${NAMES.join(" + ")} with a Pebble-issued certificate, median of ${runs} runs`);
for (const [name, times] of results) {
  const m = median(times);
  console.log(`${name.padEnd(14)} median ${(m / 1000).toFixed(3)} s   (${times.map((t) => (t / 1000).toFixed(3)).join(" ")})   ${(m / caddy).toFixed(2)} × caddy`);
}
if (padlockBreakdown.length) {
  const order = median(padlockBreakdown.map((b) => b.order));
  console.log(`padlock breakdown: the ACME order itself (new order → certificate installed) median ${(order / 1000).toFixed(3)} s; the rest is process start-up (Node + module loading + config) and the directory/account requests`);
}
const ratio = median(results.get("padlock")!) / caddy;
console.log(`padlock / caddy = ${ratio.toFixed(2)} (target ≤ 0.50)`);
