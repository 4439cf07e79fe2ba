// Who listens on a TCP port on this machine (Linux): the listening socket's inode from
// /proc/net/tcp{,6}, then the process whose file descriptors include that socket.
import { readFileSync, readdirSync, readlinkSync } from "node:fs";

export interface PortHolder {
  pid?: number;
  /** Process name (/proc/PID/comm). */
  name?: string;
  /** Full command line, for telling a padlock apart from another node program. */
  commandLine?: string;
  /** User id owning the socket, known even when the process is not visible to us. */
  uid: number;
}

const LISTEN = "0A";

/** undefined when no socket listens on the port (or /proc is not available). */
export function findPortHolder(port: number): PortHolder | undefined {
  const socket = listeningSocket(port);
  if (!socket) return undefined;
  const process = processOwning(socket.inode);
  return { uid: socket.uid, ...process };
}

function listeningSocket(port: number): { inode: string; uid: number } | undefined {
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let text: string;
    try {
      text = readFileSync(table, "utf8");
    } catch {
      continue;
    }
    for (const line of text.split("\n").slice(1)) {
      const fields = line.trim().split(/\s+/);
      const local = fields[1];
      if (!local || fields[3] !== LISTEN) continue;
      if (parseInt(local.slice(local.lastIndexOf(":") + 1), 16) === port) {
        return { inode: fields[9] ?? "", uid: Number(fields[7]) };
      }
    }
  }
  return undefined;
}

function processOwning(inode: string): { pid: number; name: string; commandLine: string } | undefined {
  const target = `socket:[${inode}]`;
  let pids: string[];
  try {
    pids = readdirSync("/proc");
  } catch {
    return undefined; // no /proc (not Linux): the holder stays unnamed
  }
  for (const entry of pids) {
    if (!/^\d+$/.test(entry)) continue;
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${entry}/fd`);
    } catch {
      continue; // another user's process, or gone already
    }
    for (const fd of fds) {
      let link: string;
      try {
        link = readlinkSync(`/proc/${entry}/fd/${fd}`);
      } catch {
        continue;
      }
      if (link === target) return { pid: Number(entry), ...describeProcess(entry) };
    }
  }
  return undefined;
}

function describeProcess(pid: string): { name: string; commandLine: string } {
  const read = (file: string) => {
    try {
      return readFileSync(`/proc/${pid}/${file}`, "utf8");
    } catch {
      return "";
    }
  };
  return { name: read("comm").trim(), commandLine: read("cmdline").split("\0").filter(Boolean).join(" ") };
}

/** A padlock is a process started through padlock's command (bin/padlock or its compiled CLI). */
export function looksLikePadlock(holder: PortHolder): boolean {
  return /(^|[\s/])(bin\/padlock|dist\/src\/cli\/main\.js)(\s|$)/.test(holder.commandLine ?? "") || holder.name === "padlock";
}

// For these the process name says little; the command line says which program it runs.
const INTERPRETERS = /^(node|nodejs|python[\d.]*|ruby|perl|php[\d.]*|java|bun|deno|sh|bash)$/;

/** "nginx (pid 1234)", "node (pid 99: node app.js)", or "a process of uid 33 (…)". */
export function describeHolder(holder: PortHolder): string {
  if (holder.pid === undefined) return `a process of uid ${holder.uid} (run the doctor as root to see which)`;
  const showCommand = holder.commandLine && (!holder.name || INTERPRETERS.test(holder.name));
  return `${holder.name || "a process"} (pid ${holder.pid}${showCommand ? `: ${truncate(holder.commandLine!, 80)}` : ""})`;
}

function truncate(text: string, max: number): string {
  return text.length > max ? text.slice(0, max - 1) + "…" : text;
}
