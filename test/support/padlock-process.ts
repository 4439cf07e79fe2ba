// padlock as a separate process, started through bin/padlock like a user would.
import { spawn, type ChildProcess } from "node:child_process";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const bin = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../bin/padlock");

export interface PadlockProcess {
  child: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
  stop(): Promise<void>;
}

export function spawnPadlock(configFile: string, config: Record<string, unknown>, args: string[] = []): PadlockProcess {
  writeFileSync(configFile, JSON.stringify(config, null, 2), { mode: 0o644 });
  const child = spawn(process.execPath, [bin, "serve", "-c", configFile, "--log-format", "json", ...args], { stdio: ["ignore", "pipe", "pipe"] });
  const chunks: string[] = [];
  child.stdout!.on("data", (d: Buffer) => chunks.push(d.toString()));
  child.stderr!.on("data", (d: Buffer) => chunks.push(d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return {
    child,
    output: () => chunks.join(""),
    exited,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      await exited;
    },
  };
}
