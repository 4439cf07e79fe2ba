// What every test shares: free loopback ports, temp folders, polling with a deadline, and a
// logger whose lines the test reads.
import dgram from "node:dgram";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { pino, type Logger } from "pino";

// Free ports are chosen below the kernel's ephemeral range (32768-60999): a port handed out by
// `listen(0)` is released again before its user binds it, and in that gap any outgoing
// connection may take it as its local port. Ports in 20000-32767 are never handed out that way.
const LOW = 20000;
const HIGH = 32767;

/**
 * A port on 127.0.0.1 nothing listens on right now, for servers that must be told their port in
 * advance (Pebble's challenge ports, a padlock spawned with a fixed port); with `udp`, free for
 * UDP too (a DNS server).
 */
export async function freePort(options: { udp?: boolean } = {}): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = LOW + Math.floor(Math.random() * (HIGH - LOW));
    if ((await canBind(port)) && (!options.udp || (await canBindUdp(port))) && claim(port)) return port;
  }
  throw new Error(`no free port found in ${LOW}-${HIGH} on 127.0.0.1`);
}

// Test files run two at a time, each choosing ports it binds only later: without a claim, two
// files could be handed the same port. A claim is a folder per port, taken atomically, holding
// the claiming process's pid; a dead process's claims are taken over.
const CLAIMS = path.join(os.tmpdir(), "padlock-test-ports");
const claimed: string[] = [];

function claim(port: number): boolean {
  const dir = path.join(CLAIMS, String(port));
  mkdirSync(CLAIMS, { recursive: true });
  try {
    mkdirSync(dir);
  } catch {
    let holder: number;
    try {
      holder = Number(readFileSync(path.join(dir, "pid"), "utf8").trim());
    } catch {
      return false; // being claimed this very moment
    }
    if (holder === process.pid || alive(holder)) return false;
  }
  writeFileSync(path.join(dir, "pid"), String(process.pid));
  if (claimed.length === 0) process.once("exit", () => claimed.forEach((d) => rmSync(d, { recursive: true, force: true })));
  claimed.push(dir);
  return true;
}

function alive(pid: number): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

function canBindUdp(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = dgram.createSocket("udp4");
    socket.once("error", () => resolve(false));
    socket.bind(port, "127.0.0.1", () => socket.close(() => resolve(true)));
  });
}

/**
 * A fresh folder under the system's temp folder. `remove` retries while something still writes
 * into it (a padlock not stopped yet after a failed assertion): a throwing t.after hook would skip
 * the later ones, and a padlock left running keeps the test file from ever ending.
 */
export function tempDir(prefix: string): { dir: string; remove: () => void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), `padlock-${prefix}-`));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true, maxRetries: 5 }) };
}

const foldersForAll = new Map<string, string>();

/**
 * A temp folder every user may enter, filled once per test process by `fill` and removed at its
 * exit. The checkout may sit in a folder only its owner may enter (a 0700 home folder), and a
 * process run as another user still has the project's files to load.
 */
export function folderForAll(prefix: string, fill: (dir: string) => void): string {
  let dir = foldersForAll.get(prefix);
  if (!dir) {
    const made = tempDir(prefix);
    process.once("exit", made.remove);
    chmodSync(made.dir, 0o755);
    fill(made.dir);
    foldersForAll.set(prefix, (dir = made.dir));
  }
  return dir;
}

/** Calls check until it returns something other than undefined/false, or throws at the deadline. */
export async function waitFor<T>(what: string, check: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 20_000, everyMs = 20): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ""}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}

/** A logger (pino, as padlock's own) whose lines are parsed into `lines` as they are written. */
export function captureLog(level = "debug"): { log: Logger; lines: LogLine[]; messages(): string[] } {
  const lines: LogLine[] = [];
  const log = pino({ level, base: undefined }, { write: (text: string) => void lines.push(JSON.parse(text) as LogLine) });
  return { log, lines, messages: () => lines.map((l) => l.msg) };
}
