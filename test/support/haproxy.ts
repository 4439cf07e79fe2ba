// A real TCP load balancer (Debian `haproxy`) on loopback: one frontend per port, each passing
// connections round robin to its backends. A backend that refuses a connection (stopped,
// killed) is skipped at once and the connection tried on the next one (`option redispatch`),
// and health checks take it out of the rotation, as in a production setup. haproxy marks a
// server down at its first failed check, so one started before its backends has none for a
// moment: `allUp()` (from its stats socket) tells when every backend is in the rotation.
import { spawn, type ChildProcess } from "node:child_process";
import net from "node:net";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { freePort, tempDir, waitFor } from "./env.js";
import { stopProcess } from "./processes.js";
import { accepts } from "./redis.js";

export interface Balancer {
  /** The frontends' ports, in the order they were asked for. */
  ports: number[];
  /** Whether haproxy has every backend in its rotation. */
  allUp(): Promise<boolean>;
  logs(): string;
  stop(): Promise<void>;
}

/** `frontends[i]` lists the backend ports behind the frontend on `ports[i]`. */
export async function startHaproxy(frontends: number[][]): Promise<Balancer> {
  const work = tempDir("haproxy");
  const ports = await Promise.all(frontends.map(() => freePort()));
  const statsSocket = path.join(work.dir, "stats.sock");
  const lines = [
    "global",
    "  maxconn 4096",
    `  stats socket ${statsSocket} mode 600 level user`,
    "defaults",
    "  mode tcp",
    "  timeout connect 1s",
    "  timeout client 30s",
    "  timeout server 30s",
    "  retries 3",
    "  option redispatch 1",
    ...frontends.flatMap((backends, i) => [
      `listen lb${i}`,
      `  bind 127.0.0.1:${ports[i]}`,
      "  balance roundrobin",
      ...backends.map((port, j) => `  server s${j} 127.0.0.1:${port} check inter 300 fall 1 rise 2`),
    ]),
  ];
  const configFile = path.join(work.dir, "haproxy.cfg");
  writeFileSync(configFile, lines.join("\n") + "\n");
  const child: ChildProcess = spawn("haproxy", ["-f", configFile, "-db"], { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout!.on("data", (d: Buffer) => (output += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (output += d.toString()));
  const stop = async () => {
    await stopProcess(child);
    work.remove();
  };
  try {
    await waitFor("haproxy to listen", async () => {
      if (child.exitCode !== null) throw new Error(`haproxy exited with ${child.exitCode}:\n${output}`);
      return (await Promise.all(ports.map(accepts))).every(Boolean);
    }, 10_000);
  } catch (err) {
    await stop();
    throw err;
  }
  return { ports, logs: () => output, stop, allUp: async () => serverStates(await ask(statsSocket, "show stat")).every((s) => s === "UP") };
}

/** One command to haproxy's stats socket; its whole answer. */
function ask(socketPath: string, command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let answer = "";
    const socket = net.connect(socketPath, () => socket.end(`${command}\n`));
    socket.on("data", (d: Buffer) => (answer += d.toString()));
    socket.on("end", () => resolve(answer));
    socket.on("error", reject);
  });
}

/** The status column of every server row of `show stat` (CSV; not the FRONTEND and BACKEND rows). */
function serverStates(csv: string): string[] {
  const [header, ...rows] = csv.trim().split("\n");
  const columns = header!.replace(/^# /, "").split(",");
  const [name, status] = [columns.indexOf("svname"), columns.indexOf("status")];
  return rows.map((r) => r.split(",")).filter((r) => r[name] !== "FRONTEND" && r[name] !== "BACKEND").map((r) => r[status]!);
}
