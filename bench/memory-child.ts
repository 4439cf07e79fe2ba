// padlock for bench/memory in its own process: `count` sites (s0.test, s1.test…), each with a
// certificate from the internal CA kept in `dir`. Once every certificate is installed it runs a
// full garbage collection (node --expose-gc), prints its resident memory as JSON and stops.
//   node --expose-gc dist/bench/memory-child.js DIR COUNT
import { readFileSync } from "node:fs";
import { createLogger } from "../src/log.js";
import { Padlock } from "../src/padlock.js";

const [dir, count] = [process.argv[2]!, Number(process.argv[3])];
const started = performance.now();
const padlock = await Padlock.start({
  config: { ca: "internal", storage: dir, log: { access: "off" }, sites: Array.from({ length: count }, (_, i) => ({ hosts: [`s${i}.test`], redirect: "https://elsewhere.test" })) },
  baseDir: dir,
  log: createLogger({ format: "json", level: "warn" }),
  httpPort: 0,
  httpsPort: 0,
  listen: "127.0.0.1",
});
// Padlock.start resolves once the internal CA has installed every certificate.
const installed = Array.from({ length: count }, (_, i) => padlock.certificates.lookup(`s${i}.test`)).filter(Boolean).length;
if (installed !== count) throw new Error(`${installed} of ${count} certificates installed`);
const startMs = performance.now() - started;
for (let i = 0; i < 3; i++) (globalThis as { gc?: () => void }).gc?.();
await new Promise((resolve) => setTimeout(resolve, 200));
const rssKiB = Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync("/proc/self/status", "utf8"))?.[1]);
process.stdout.write(JSON.stringify({ rssKiB, startMs }) + "\n");
await padlock.close();
