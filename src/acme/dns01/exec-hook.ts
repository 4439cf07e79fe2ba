// DNS-01 through a user's own command, for DNS hosts padlock has no provider for. The command
// is run by /bin/sh as `COMMAND add|remove NAME VALUE` (NAME fully qualified with a trailing
// dot), from the config file's folder, so a relative path in it is relative to the config file
// like every other path. The name and value are passed as separate arguments, never pasted into
// the shell line.
import { spawn } from "node:child_process";
import { Dns01Error, STOPPING_CLEANUP_MS, type Dns01Provider } from "./provider.js";
import type { AuthoritativeTxtCheck } from "./authoritative.js";

export interface ExecHookOptions {
  /** Shell command line; the action, name and value are appended as arguments. */
  command: string;
  check: AuthoritativeTxtCheck;
  /** The folder the command runs in (the config file's). */
  cwd?: string;
  /** Each call's limit (default 120 s). */
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
  /** Where the command is in the config, named in error messages. */
  configKey?: string;
}

export const DEFAULT_HOOK_TIMEOUT_MS = 120_000;
const STDERR_LIMIT = 4096;
const KILL_GRACE_MS = 2000;

export class ExecHookProvider implements Dns01Provider {
  readonly description: string;

  readonly check: AuthoritativeTxtCheck;

  constructor(private readonly options: ExecHookOptions) {
    this.check = options.check;
    this.description = `DNS hook command ${JSON.stringify(options.command)}`;
  }

  present(fqdn: string, value: string, stopping?: AbortSignal): Promise<void> {
    return this.run("add", fqdn, value, stopping);
  }

  cleanup(fqdn: string, value: string, stopping?: AbortSignal): Promise<void> {
    return this.run("remove", fqdn, value, stopping);
  }

  waitVisible(fqdn: string, value: string, deadline: Date, stopping?: AbortSignal): Promise<void> {
    return this.check.waitVisible(fqdn, value, deadline, { signal: stopping });
  }

  /**
   * Runs one call of the hook. When padlock stops, an `add` is stopped at once (its record is
   * not needed any more) and a `remove` gets a few seconds more to finish.
   */
  private run(action: "add" | "remove", fqdn: string, value: string, stopping?: AbortSignal): Promise<void> {
    const name = fqdn.endsWith(".") ? fqdn : `${fqdn}.`;
    const timeoutMs = this.options.timeoutMs ?? DEFAULT_HOOK_TIMEOUT_MS;
    const shown = `${this.options.command} ${action} ${name} ${value}`;
    const where = this.options.configKey ?? "tls.dns.command";
    const cwd = this.options.cwd;
    return new Promise((resolve, reject) => {
      // Its own process group, so a timeout also stops whatever the command started.
      const child = spawn("/bin/sh", ["-c", `${this.options.command} "$@"`, "padlock-dns-hook", action, name, value], {
        stdio: ["ignore", "ignore", "pipe"],
        detached: true,
        cwd,
        env: this.options.env ?? process.env,
      });
      let stderr = "";
      let stoppedBecause: string | undefined;
      child.stderr.setEncoding("utf8");
      child.stderr.on("data", (chunk: string) => {
        if (stderr.length < STDERR_LIMIT) stderr += chunk;
      });
      const stop = (because: string) => {
        stoppedBecause ??= because;
        killGroup(child.pid, "SIGTERM");
        setTimeout(() => killGroup(child.pid, "SIGKILL"), KILL_GRACE_MS).unref();
      };
      const limit = (ms: number, because: string) => setTimeout(() => stop(because), ms);
      const stoppingMs = Math.min(timeoutMs, STOPPING_CLEANUP_MS);
      const stoppingLimit = () => limit(stoppingMs, `was stopped: padlock is stopping and gave it ${stoppingMs / 1000} s`);
      let timer = stopping?.aborted ? stoppingLimit() : limit(timeoutMs, `did not finish within ${timeoutMs / 1000} s and was stopped`);
      const onStopping = () => {
        clearTimeout(timer);
        if (action === "add") stop("was stopped: padlock is stopping");
        else timer = stoppingLimit();
      };
      if (!stopping?.aborted) stopping?.addEventListener("abort", onStopping, { once: true });
      const done = () => {
        clearTimeout(timer);
        stopping?.removeEventListener("abort", onStopping);
      };
      child.on("error", (err) => {
        done();
        reject(new Dns01Error("hook-failed", `cannot run the DNS hook (${where}) "${shown}": ${err.message}`));
      });
      child.on("close", (code, signal) => {
        done();
        const output = stderr.trim().slice(0, STDERR_LIMIT);
        const said = output ? `; its stderr: ${output}` : "";
        if (stoppedBecause) {
          reject(new Dns01Error(stopping?.aborted ? "stopped" : "hook-timeout", `the DNS hook (${where}) "${shown}" ${stoppedBecause}${said}`));
        } else if (code !== 0) {
          const status = signal ? `was killed by ${signal}` : `exited with status ${code}`;
          // 126/127: the shell could not run the command; say where relative paths start.
          const hint = (code === 126 || code === 127) && cwd ? ` (the command runs in ${cwd}, the config file's folder: a relative path starts there)` : "";
          reject(new Dns01Error("hook-failed", `the DNS hook (${where}) "${shown}" ${status}${hint}${said || " and wrote nothing to stderr"}`));
        } else {
          resolve();
        }
      });
    });
  }
}

function killGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // Already gone.
  }
}
