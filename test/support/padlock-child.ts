// ./bin/padlock as a child process (for signals and memory measurements), with its JSON log
// lines collected and its ports read from the "serving http://…" lines.
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { waitFor } from "./edge-harness.js";

const BIN = fileURLToPath(new URL("../../../bin/padlock", import.meta.url));

export interface PadlockProcess {
  child: ChildProcess;
  httpPort: number;
  /** Every JSON line on stdout: program log lines (with msg) and access log lines. */
  lines: Record<string, unknown>[];
  stderr(): string;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
  /** Resident set size now, in bytes (Linux /proc). */
  rss(): number;
  stop(): Promise<void>;
}

export async function spawnPadlock(configFile: string, extraArgs: string[] = []): Promise<PadlockProcess> {
  const child = spawn(process.execPath, [BIN, "serve", "--config", configFile, "--http-port", "0", "--https-port", "0", "--listen", "127.0.0.1", "--log-format", "json", ...extraArgs], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  const lines: Record<string, unknown>[] = [];
  let stderr = "";
  let partial = "";
  child.stdout!.on("data", (chunk: Buffer) => {
    const parts = (partial + chunk.toString()).split("\n");
    partial = parts.pop()!;
    for (const line of parts) if (line.trim()) lines.push(JSON.parse(line) as Record<string, unknown>);
  });
  child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  let httpPort = 0;
  await waitFor(`padlock to start (stderr: ${stderr})`, () => {
    if (child.exitCode !== null) throw new Error(`padlock exited with ${child.exitCode}: ${stderr}`);
    const serving = lines.find((l) => typeof l.msg === "string" && l.msg.startsWith("serving http://"));
    if (serving) httpPort = Number(/:(\d+)\//.exec(serving.msg as string)![1]);
    return httpPort > 0;
  });
  return {
    child,
    httpPort,
    lines,
    stderr: () => stderr,
    exited,
    rss: () => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, "utf8"))![1]) * 1024,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGKILL");
        await exited;
      }
    },
  };
}
