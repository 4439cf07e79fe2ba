// bench/memory: padlock's resident memory with one site and with 1,000 sites, each with its own
// certificate from the internal CA (ca: internal), in fresh processes; the difference per
// certificate is what each installed certificate costs (its key and chain, its TLS context).
// Measured after every certificate is installed and a full garbage collection. bench/serve
// prints the memory of padlock, nginx and Caddy after serving.
//
//   node dist/bench/memory.js [sites=1000] [rounds=3]
import { spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { tempDir } from "../test/support/env.js";
import { loadAverage } from "./peers.js";
import { median } from "./stats.js";

const [sites = 1000, rounds = 3] = process.argv.slice(2).map(Number);
const here = path.dirname(fileURLToPath(import.meta.url));

/** Resident memory (KiB) of a padlock serving `count` internal sites, once all are installed. */
function measure(count: number): Promise<{ rssKiB: number; startMs: number }> {
  const work = tempDir("bench-memory");
  return new Promise<{ rssKiB: number; startMs: number }>((resolve, reject) => {
    const child = spawn(process.execPath, ["--expose-gc", path.join(here, "memory-child.js"), work.dir, String(count)], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.on("data", (c: Buffer) => (out += c.toString()));
    child.once("exit", (code) => {
      work.remove();
      if (code !== 0) return reject(new Error(`memory-child exited with ${code}:\n${out}`));
      resolve(JSON.parse(out.trim().split("\n").at(-1)!) as { rssKiB: number; startMs: number });
    });
  });
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
