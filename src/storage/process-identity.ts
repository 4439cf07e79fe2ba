// Who holds a lock or left a challenge file behind: host, pid and when that process started.
// On the same host a holder whose pid is gone (or now belongs to a process started at another
// time) is known to be dead, so its lock can be taken at once instead of waiting out its lease.
import { readFileSync, readlinkSync } from "node:fs";
import { hostname } from "node:os";

export interface ProcessIdentity {
  host: string;
  pid: number;
  /** When the process started (ISO time), for people. */
  started: string;
  /** Its start in clock ticks since boot (/proc/PID/stat), to tell a reused pid apart; Linux only. */
  startTicks?: number;
  /** Its pid namespace (/proc/self/ns/pid): containers sharing a host name may number their processes apart. */
  pidNamespace?: string;
}

let self: ProcessIdentity | undefined;

export function thisProcess(): ProcessIdentity {
  self ??= {
    host: hostname(),
    pid: process.pid,
    started: new Date(Date.now() - process.uptime() * 1000).toISOString(),
    startTicks: startTicksOf(process.pid),
    pidNamespace: pidNamespace(),
  };
  return self;
}

export function isThisProcess(p: ProcessIdentity): boolean {
  const me = thisProcess();
  return p.host === me.host && p.pid === me.pid && (p.startTicks === undefined || p.startTicks === me.startTicks);
}

/** True only when certain: the process ran on this host and is no longer running. */
export function isGone(p: ProcessIdentity): boolean {
  if (p.host !== hostname()) return false;
  if (isThisProcess(p)) return false;
  if (p.pidNamespace !== undefined && p.pidNamespace !== thisProcess().pidNamespace) return false;
  try {
    process.kill(p.pid, 0);
  } catch (err) {
    // EPERM: it runs, as another user.
    return (err as NodeJS.ErrnoException).code === "ESRCH";
  }
  const ticks = startTicksOf(p.pid);
  return p.startTicks !== undefined && ticks !== undefined && ticks !== p.startTicks;
}

/** "pid 123 on host-a (started 2025-01-01T10:00:00.000Z)" */
export function describeProcess(p: ProcessIdentity): string {
  return `pid ${p.pid} on ${p.host} (started ${p.started})`;
}

/** Reads a ProcessIdentity out of parsed JSON; undefined when the fields are not there. */
export function asProcessIdentity(v: unknown): ProcessIdentity | undefined {
  const o = v as Partial<ProcessIdentity> | null;
  if (typeof o !== "object" || o === null || typeof o.host !== "string" || typeof o.pid !== "number" || typeof o.started !== "string") return undefined;
  return {
    host: o.host,
    pid: o.pid,
    started: o.started,
    startTicks: typeof o.startTicks === "number" ? o.startTicks : undefined,
    pidNamespace: typeof o.pidNamespace === "string" ? o.pidNamespace : undefined,
  };
}

/** Field 22 of /proc/PID/stat; the command name before it may contain spaces and parentheses. */
function startTicksOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ticks = Number(fields[19]);
    return Number.isFinite(ticks) ? ticks : undefined;
  } catch {
    return undefined;
  }
}

function pidNamespace(): string | undefined {
  try {
    return readlinkSync("/proc/self/ns/pid");
  } catch {
    return undefined;
  }
}
