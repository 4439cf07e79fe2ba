// A real authoritative DNS server for tests: Knot DNS (Debian `knot`) on loopback, on a free
// port, in a temp folder, as the current user, serving `example.test` and accepting dynamic
// updates signed with TSIG keys generated here (one per algorithm), and one more key limited as
// the README suggests: TXT records at _acme-challenge and _acme-challenge.www only.
import { spawn, execFile, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { setTimeout as sleep } from "node:timers/promises";
import { freePort, tempDir } from "./env.js";
import { stopProcess } from "./processes.js";
import { query } from "../../src/acme/dns01/dns-client.js";
import type { TsigAlgorithm, TsigKey } from "../../src/acme/dns01/tsig.js";

const run = promisify(execFile);

export const TEST_ZONE = "example.test";
const KEY_ALGORITHMS: TsigAlgorithm[] = ["hmac-sha256", "hmac-sha512", "hmac-sha1"];

export interface KnotServer {
  host: string;
  port: number;
  /** host:port, as in a `server:` setting. */
  address: string;
  zone: string;
  dir: string;
  /** The update key for each algorithm; `keys["hmac-sha256"]` is the usual one. */
  keys: Record<TsigAlgorithm, TsigKey>;
  /** A key the zone lets update TXT records at _acme-challenge.example.test and _acme-challenge.www.example.test only. */
  acmeOnlyKey: TsigKey;
  /** TXT values at `name`, asked with kdig (an observer independent of padlock's DNS code). */
  txt(name: string): Promise<string[]>;
  /** Writes an exec-hook script (`SCRIPT add|remove NAME VALUE`) that updates this server with knsupdate. */
  writeUpdateHook(dir: string): Promise<string>;
  stop(): Promise<void>;
}

export async function startKnot(): Promise<KnotServer> {
  const { dir, remove } = tempDir("knot");
  const keys = Object.fromEntries(
    KEY_ALGORITHMS.map((algorithm) => [algorithm, { name: `padlock-${algorithm}.`, algorithm, secret: randomBytes(32) }]),
  ) as Record<TsigAlgorithm, TsigKey>;
  const acmeOnlyKey: TsigKey = { name: "padlock-acme-only.", algorithm: "hmac-sha256", secret: randomBytes(32) };
  await mkdir(path.join(dir, "zones"));
  await mkdir(path.join(dir, "db"));
  await writeFile(
    path.join(dir, "zones", `${TEST_ZONE}.zone`),
    [
      `$ORIGIN ${TEST_ZONE}.`,
      "$TTL 60",
      `@ SOA ns1.${TEST_ZONE}. hostmaster.${TEST_ZONE}. 1 3600 600 86400 60`,
      `@ NS ns1.${TEST_ZONE}.`,
      "@ A 127.0.0.1",
      "ns1 A 127.0.0.1",
      "",
    ].join("\n"),
  );

  let lastError = "";
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort({ udp: true });
    await writeFile(path.join(dir, "knot.conf"), knotConfig(dir, port, Object.values(keys), acmeOnlyKey));
    const child = spawn("knotd", ["-c", path.join(dir, "knot.conf")], { stdio: ["ignore", "ignore", "pipe"] });
    let log = "";
    child.stderr!.setEncoding("utf8").on("data", (chunk: string) => (log += chunk));
    if (await ready(child, port)) {
      return {
        host: "127.0.0.1",
        port,
        address: `127.0.0.1:${port}`,
        zone: TEST_ZONE,
        dir,
        keys,
        acmeOnlyKey,
        txt: (name) => kdigTxt(port, name),
        writeUpdateHook: (hookDir) => writeUpdateHook(hookDir, port, keys["hmac-sha256"]),
        stop: async () => {
          await stopProcess(child);
          remove();
        },
      };
    }
    await stopProcess(child);
    lastError = log;
  }
  remove();
  throw new Error(`knotd did not start:\n${lastError}`);
}

function knotConfig(dir: string, port: number, keys: TsigKey[], acmeOnlyKey: TsigKey): string {
  return [
    "server:",
    `    rundir: "${dir}"`,
    `    pidfile: "${dir}/knot.pid"`,
    `    listen: 127.0.0.1@${port}`,
    "control:",
    `    listen: "${dir}/knot.sock"`,
    "log:",
    "  - target: stderr",
    "    any: info",
    "database:",
    `    storage: "${dir}/db"`,
    "key:",
    ...[...keys, acmeOnlyKey].flatMap((k) => [`  - id: ${k.name}`, `    algorithm: ${k.algorithm}`, `    secret: ${k.secret.toString("base64")}`]),
    "acl:",
    "  - id: update",
    `    key: [${keys.map((k) => k.name).join(", ")}]`,
    "    action: update",
    // The README's example ACL for Knot.
    "  - id: acme-only",
    `    key: ${acmeOnlyKey.name}`,
    "    action: update",
    "    update-type: [TXT]",
    "    update-owner: name",
    "    update-owner-match: equal",
    "    update-owner-name: [_acme-challenge, _acme-challenge.www]",
    "template:",
    "  - id: default",
    `    storage: "${dir}/zones"`,
    "zone:",
    `  - domain: ${TEST_ZONE}`,
    `    file: ${TEST_ZONE}.zone`,
    "    acl: [update, acme-only]",
    "",
  ].join("\n");
}

/** Polls the zone's SOA until knotd answers, it exits, or 10 s pass. */
async function ready(child: ChildProcess, port: number): Promise<boolean> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline && child.exitCode === null) {
    try {
      const answer = await query({ host: "127.0.0.1", port }, TEST_ZONE, "SOA", { timeoutMs: 200 });
      if (answer.rcode === "NOERROR" && answer.answers?.some((a) => a.type === "SOA")) return true;
    } catch {
      // Not listening yet.
    }
    await sleep(50);
  }
  return false;
}

async function writeUpdateHook(dir: string, port: number, key: TsigKey): Promise<string> {
  const script = path.join(dir, "knot-update-hook.sh");
  await writeFile(
    script,
    [
      "#!/bin/sh",
      "set -eu",
      "action=$1 name=$2 value=$3",
      'case "$action" in',
      '  add) change="update add $name 60 TXT \\"$value\\"" ;;',
      '  remove) change="update delete $name TXT \\"$value\\"" ;;',
      '  *) echo "unknown action $action" >&2; exit 64 ;;',
      "esac",
      `printf 'server 127.0.0.1 ${port}\\nzone ${TEST_ZONE}.\\n%s\\nsend\\n' "$change" | knsupdate -y "${key.algorithm}:${key.name}:${key.secret.toString("base64")}"`,
      "",
    ].join("\n"),
    { mode: 0o755 },
  );
  return script;
}

async function kdigTxt(port: number, name: string): Promise<string[]> {
  const { stdout } = await run("kdig", [`@127.0.0.1`, "-p", String(port), "+short", "+norecurse", "TXT", name]);
  return stdout
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => [...line.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((m) => m[1]).join(""));
}
