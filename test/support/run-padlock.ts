// Runs the padlock command line as a child process (optionally as another user, via setpriv)
// and collects its exit code and output.
import { spawn } from "node:child_process";
import path from "node:path";
import { packageRoot } from "../../src/paths.js";

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export const padlockBin = path.join(packageRoot, "bin", "padlock");

export function runPadlock(args: string[], options: { asUser?: { user: string; group: string }; env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<RunResult> {
  const command = options.asUser
    ? ["setpriv", `--reuid=${options.asUser.user}`, `--regid=${options.asUser.group}`, "--clear-groups", process.execPath, padlockBin, ...args]
    : [process.execPath, padlockBin, ...args];
  return new Promise((resolve, reject) => {
    const child = spawn(command[0]!, command.slice(1), { env: { ...process.env, ...options.env }, cwd: options.cwd, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d));
    child.stderr.on("data", (d: Buffer) => (stderr += d));
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, stdout, stderr }));
  });
}
