// padlock as a child process, started through bin/padlock like a user would: run to its exit
// with its output collected, or left serving, with its JSON log lines and ports at hand.
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { packageRoot } from "../../src/paths.js";
import { copyRuntimeFiles } from "../../build/runtime-files.js";
import { folderForAll, waitFor } from "./env.js";

export const padlockBin = path.join(packageRoot, "bin", "padlock");

/** bin/padlock of a copy of the built program (what the container image holds) that every user may load. */
function padlockBinForAll(): string {
  return path.join(folderForAll("program", (dir) => copyRuntimeFiles(packageRoot, dir)), "bin", "padlock");
}

export interface SpawnOptions {
  /** Run as this user and group, through setpriv (the tests run as root), from a copy that user can read. */
  asUser?: { user: string; group: string };
  /** padlock switches to another user itself (`user:` in its config): run a copy that user can read. */
  switchesUser?: boolean;
  /** Added to this process's environment. */
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** A command padlock runs under (unshare, setpriv…); it must exec padlock, so the pid stays padlock's. */
  prefix?: string[];
  /** Node options and the script to run instead of bin/padlock (the unbundled dist/src/cli/main.js with a preload, say). */
  node?: { args: string[]; entry: string };
}

export interface PadlockProcess {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** stdout and stderr, interleaved as they came. */
  output(): string;
  /** The JSON lines on stdout (with --log-format json: program log lines with msg, access log lines). */
  logLines(): Record<string, unknown>[];
  /** Resolves with the exit code once the process has exited and its output is read. */
  exited: Promise<number | null>;
  /** Waits for the "serving http://…" and "serving https://…" log lines; the ports they name. */
  serving(): Promise<{ httpPort: number; httpsPort: number }>;
  /** Resident set size now, in bytes (Linux /proc). */
  rss(): number;
  /** Sends `signal` (SIGTERM by default) unless it has exited, and waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function spawnPadlock(args: string[], options: SpawnOptions = {}): PadlockProcess {
  const bin = options.asUser || options.switchesUser ? padlockBinForAll() : padlockBin;
  const command = [
    ...(options.prefix ?? []),
    ...(options.asUser ? ["setpriv", `--reuid=${options.asUser.user}`, `--regid=${options.asUser.group}`, "--clear-groups"] : []),
    process.execPath,
    ...(options.node ? [...options.node.args, options.node.entry] : [bin]),
    ...args,
  ];
  const child = spawn(command[0]!, command.slice(1), { env: { ...process.env, ...options.env }, cwd: options.cwd, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  let output = "";
  child.stdout!.setEncoding("utf8").on("data", (chunk: string) => ((stdout += chunk), (output += chunk)));
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => ((stderr += chunk), (output += chunk)));
  const exited = new Promise<number | null>((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (code) => resolve(code));
  });
  exited.catch(() => undefined); // awaited by the test when it cares
  // Complete lines only: the last piece may be half a line still being written.
  const logLines = () => stdout.split("\n").slice(0, -1).flatMap((line) => (/^\{.*\}$/.test(line) ? [JSON.parse(line) as Record<string, unknown>] : []));
  const port = (scheme: string) => {
    const line = logLines().find((l) => typeof l.msg === "string" && l.msg.startsWith(`serving ${scheme}://`));
    return line ? Number(/:(\d+)\//.exec(line.msg as string)![1]) : undefined;
  };
  return {
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    output: () => output,
    logLines,
    exited,
    serving: () => {
      const died = exited.then((code) => Promise.reject(new Error(`padlock exited (code ${code}) before serving:\n${output}`)));
      const served = waitFor(`padlock ${args.join(" ")} to serve`, () => {
        const [httpPort, httpsPort] = [port("http"), port("https")];
        return httpPort !== undefined && httpsPort !== undefined && { httpPort, httpsPort };
      }, 30_000);
      return Promise.race([died, served]);
    },
    rss: () => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, "utf8"))![1]) * 1024,
    stop: async (signal = "SIGTERM") => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited.catch(() => undefined);
    },
  };
}

/** Runs padlock to its exit. */
export async function runPadlock(args: string[], options: SpawnOptions = {}): Promise<RunResult> {
  const padlock = spawnPadlock(args, options);
  return { code: await padlock.exited, stdout: padlock.stdout(), stderr: padlock.stderr() };
}

export type ServingPadlock = PadlockProcess & { httpPort: number; httpsPort: number };

/** `padlock serve` on 127.0.0.1 and ports the OS chooses, logging JSON, once it serves. */
export async function servePadlock(args: string[], options: SpawnOptions = {}): Promise<ServingPadlock> {
  const padlock = spawnPadlock(["serve", "--listen", "127.0.0.1", "--http-port", "0", "--https-port", "0", "--log-format", "json", ...args], options);
  try {
    return { ...padlock, ...(await padlock.serving()) };
  } catch (err) {
    await padlock.stop("SIGKILL");
    throw err;
  }
}

/** Writes `config` (JSON is YAML) to `file`, readable by any user padlock may run as. */
export function writeConfig(file: string, config: Record<string, unknown>): string {
  writeFileSync(file, JSON.stringify(config, null, 2), { mode: 0o644 });
  return file;
}
