// DNS-01 through a user's own command, for DNS hosts padlock has no provider for. The command
// is run as `COMMAND add|remove NAME VALUE` (NAME fully qualified with a trailing dot). The
// name and value are passed as separate arguments, never pasted into the shell line.
import { spawn } from "node:child_process";
import { Dns01Error, type Dns01Provider } from "./provider.js";
import type { AuthoritativeTxtCheck } from "./authoritative.js";

export interface ExecHookOptions {
  /** Shell command line; the action, name and value are appended as arguments. */
  command: string;
  check: AuthoritativeTxtCheck;
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
  /** Where the command is in the config, named in error messages. */
  configKey?: string;
}

const STDERR_LIMIT = 4096;
const KILL_GRACE_MS = 2000;

export class ExecHookProvider implements Dns01Provider {
  readonly description: string;

  constructor(private readonly options: ExecHookOptions) {
    this.description = `DNS hook command ${JSON.stringify(options.command)}`;
  }

  present(fqdn: string, value: string): Promise<void> {
    return this.run("add", fqdn, value);
  }

  cleanup(fqdn: string, value: string): Promise<void> {
    return this.run("remove", fqdn, value);
  }

  waitVisible(fqdn: string, value: string, deadline: Date): Promise<void> {
    return this.options.check.waitVisible(fqdn, value, deadline);
  }

  private run(action: "add" | "remove", fqdn: string, value: string): Promise<void> {
    const name = fqdn.endsWith(".") ? fqdn : `${fqdn}.`;
    const timeoutMs = this.options.timeoutMs ?? 120_000;
    const shown = `${this.options.command} ${action} ${name} ${value}`;
    const where = this.options.configKey ?? "tls.dns.command";
    return new Promise((resolve, reject) => {
      // Its own process group, so a timeout also stops whatever the command started.
      const child = spawn("/bin/sh", ["-c", `${this.options.command} "$@"`, "padlock-dns-hook", action, name, value], {
        stdio: ["ignore", "ignore", "pipe"],
        detached: true,
        env: this.options.env ?? process.env,
      });
      let stderr = "";
      let timedOut = false;
      child.stderr.setEncoding("utf8");
      child.stderr.on("data", (chunk: string) => {
        if (stderr.length < STDERR_LIMIT) stderr += chunk;
      });
      const timer = setTimeout(() => {
        timedOut = true;
        killGroup(child.pid, "SIGTERM");
        setTimeout(() => killGroup(child.pid, "SIGKILL"), KILL_GRACE_MS).unref();
      }, timeoutMs);
      child.on("error", (err) => {
        clearTimeout(timer);
        reject(new Dns01Error("hook-failed", `cannot run the DNS hook (${where}) "${shown}": ${err.message}`));
      });
      child.on("close", (code, signal) => {
        clearTimeout(timer);
        const output = stderr.trim().slice(0, STDERR_LIMIT);
        if (timedOut) {
          reject(new Dns01Error("hook-timeout", `the DNS hook (${where}) "${shown}" did not finish within ${timeoutMs / 1000} s and was stopped${output ? `; its stderr: ${output}` : ""}`));
        } else if (code !== 0) {
          const status = signal ? `was killed by ${signal}` : `exited with status ${code}`;
          reject(new Dns01Error("hook-failed", `the DNS hook (${where}) "${shown}" ${status}${output ? `; its stderr: ${output}` : " and wrote nothing to stderr"}`));
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
