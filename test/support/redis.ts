// A real redis-server (Debian `redis-server`) on a free loopback port, with its data in a temp
// folder so a stop and a start on the same port keep what it held (an outage, not a wipe).
// Optionally with a password, ACL users, or TLS only (rediss://).
import { spawn, type ChildProcess } from "node:child_process";
import { writeFileSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import { freePort, tempDir, waitFor } from "./env.js";
import { stopProcess } from "./processes.js";

export interface RedisOptions {
  /** requirepass: the default user's password. */
  password?: string;
  /** ACL lines (`user NAME on >PASSWORD ~padlock:* …`), added to the config as they are. */
  aclUsers?: string[];
  /** Serve TLS only, with this certificate and key (PEM files); the port is then TLS. */
  tls?: { certFile: string; keyFile: string; caFile: string };
}

export interface RedisServer {
  port: number;
  /** redis://127.0.0.1:PORT/0, or rediss:// with TLS. */
  url: string;
  /** Sends one command through redis-cli as the admin (default user, with the password when set); its output. */
  cli(...args: string[]): Promise<string>;
  /** Stops the server (it saves its data first); start() brings it back on the same port. */
  stop(): Promise<void>;
  start(): Promise<void>;
  running(): boolean;
  /** Stops it for good and removes its folder. */
  close(): Promise<void>;
}

export async function startRedis(options: RedisOptions = {}): Promise<RedisServer> {
  const work = tempDir("redis");
  const port = await freePort();
  const lines = [
    "bind 127.0.0.1",
    `dir ${work.dir}`,
    "save 3600 1", // a stop saves the data; start() loads it again
    "appendonly no",
    "daemonize no",
    "loglevel warning",
    `logfile ${path.join(work.dir, "redis.log")}`,
    ...(options.password ? [`requirepass ${options.password}`] : []),
    ...(options.aclUsers ?? []),
    ...(options.tls ? ["port 0", `tls-port ${port}`, `tls-cert-file ${options.tls.certFile}`, `tls-key-file ${options.tls.keyFile}`, `tls-ca-cert-file ${options.tls.caFile}`, "tls-auth-clients no"] : [`port ${port}`]),
  ];
  const configFile = path.join(work.dir, "redis.conf");
  writeFileSync(configFile, lines.join("\n") + "\n");
  let child: ChildProcess | undefined;
  const cliArgs = ["-h", "127.0.0.1", "-p", String(port), ...(options.password ? ["--no-auth-warning", "-a", options.password] : []), ...(options.tls ? ["--tls", "--cacert", options.tls.caFile] : [])];
  const cli = (...args: string[]) =>
    new Promise<string>((resolve, reject) => {
      const c = spawn("redis-cli", [...cliArgs, ...args], { stdio: ["ignore", "pipe", "pipe"] });
      let out = "";
      c.stdout.on("data", (d: Buffer) => (out += d.toString()));
      c.stderr.on("data", (d: Buffer) => (out += d.toString()));
      c.once("error", reject);
      c.once("close", (code) => (code === 0 ? resolve(out.trim()) : reject(new Error(`redis-cli ${args.join(" ")}: exit ${code}: ${out}`))));
    });
  const start = async () => {
    child = spawn("redis-server", [configFile], { stdio: "ignore" });
    const started = child;
    await waitFor(`redis-server on port ${port}`, () => {
      if (started.exitCode !== null) throw new Error(`redis-server exited with ${started.exitCode}`);
      return accepts(port);
    }, 10_000, 20);
  };
  await start();
  return {
    port,
    url: `${options.tls ? "rediss" : "redis"}://127.0.0.1:${port}/0`,
    cli,
    start,
    stop: async () => {
      if (child) await stopProcess(child);
      child = undefined;
    },
    running: () => child !== undefined && child.exitCode === null,
    close: async () => {
      if (child) await stopProcess(child);
      child = undefined;
      work.remove();
    },
  };
}

/** Whether something accepts TCP connections on 127.0.0.1:port now. */
export function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, "127.0.0.1");
    socket.once("connect", () => (socket.destroy(), resolve(true)));
    socket.once("error", () => resolve(false));
  });
}
