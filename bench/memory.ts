// bench/memory: padlock's resident memory with one site and with 1,000 sites, each with its own
// certificate from the internal CA (ca: internal), in fresh `padlock serve` processes, as users
// run it; the difference per certificate is what each installed certificate costs (its key and
// chain, its site). Measured once padlock says it serves (every certificate installed) and has
// had a moment to finish its start (`padlock serve` runs a full collection once started).
// bench/serve prints the memory of padlock, nginx and Caddy after serving.
//
//   node dist/bench/memory.js [sites=1000] [rounds=3]
import { spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { freePort, tempDir } from "../test/support/env.js";
import { padlockBin } from "../test/support/padlock-process.js";
import { loadAverage } from "./peers.js";
import { median } from "./stats.js";

const [sites = 1000, rounds = 3] = process.argv.slice(2).map(Number);
/** From "serving https://…" to the measurement: the collection after start runs in between. */
const SETTLE_MS = Number(process.env.SETTLE_MS ?? 500);

/** Resident memory (KiB) of a padlock serving `count` internal sites, once all are installed. */
async function measure(count: number): Promise<{ rssKiB: number; startMs: number }> {
  const work = tempDir("bench-memory");
  const config = path.join(work.dir, "padlock.yaml");
  const hosts = Array.from({ length: count }, (_, i) => `s${i}.test`);
  writeFileSync(config, JSON.stringify({ ca: "internal", storage: path.join(work.dir, "data"), log: { access: "off" }, listen: "127.0.0.1", sites: hosts.map((h) => ({ hosts: [h], redirect: "https://elsewhere.test" })) }));
  const args = [padlockBin, "serve", "-c", config, "--http-port", String(await freePort()), "--https-port", String(await freePort()), "--log-format", "json"];
  const started = performance.now();
  const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "inherit"] });
  try {
    return await new Promise((resolve, reject) => {
      let out = "";
      child.stdout.on("data", (c: Buffer) => {
        out += c.toString();
        if (!/"msg":"serving https:/.test(out)) return;
        child.stdout.removeAllListeners("data").resume();
        const startMs = performance.now() - started;
        setTimeout(() => resolve({ rssKiB: Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, "utf8"))?.[1]), startMs }), SETTLE_MS);
      });
      child.once("exit", (code) => reject(new Error(`padlock serve exited with ${code} before serving:\n${out}`)));
    });
  } finally {
    child.removeAllListeners("exit");
    child.kill("SIGTERM");
    await new Promise((resolve) => child.once("exit", resolve));
    work.remove();
  }
}

console.log(`bench/memory: resident memory of padlock with 1 and ${sites} internal-CA certificates (one site each), ${rounds} fresh processes each; load average ${loadAverage()}`);
const one: number[] = [];
const many: number[] = [];
for (let round = 1; round <= rounds; round++) {
  const a = await measure(1);
  const b = await measure(sites);
  one.push(a.rssKiB);
  many.push(b.rssKiB);
  console.log(`  round ${round}: 1 site ${(a.rssKiB / 1024).toFixed(1)} MiB; ${sites} sites ${(b.rssKiB / 1024).toFixed(1)} MiB (all issued and installed in ${(b.startMs / 1000).toFixed(1)} s)`);
}
const perCert = (median(many) - median(one)) / (sites - 1);
console.log(`\n| padlock | resident memory |\n|---|---:|\n| 1 site | ${(median(one) / 1024).toFixed(1)} MiB |\n| ${sites} sites, a certificate each | ${(median(many) / 1024).toFixed(1)} MiB |\n| per certificate above one site | ${perCert.toFixed(1)} KiB (target ≤ 20 KB) |`);
