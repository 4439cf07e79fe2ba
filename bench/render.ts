// bench/render: start-up render time of a blog, in fresh processes (cold JIT, as at start-up):
// the corpus, and a generated 1,000-post site (target < 2 s). Median of 3 processes each.
//   node dist/bench/render.js   (needs the corpus in ../shared/corpus)
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { tempDir } from "../test/support/env.js";
import { generateSite } from "./generate-site.js";
import { loadAverage } from "./peers.js";
import { median } from "./stats.js";

const run = promisify(execFile);
const here = path.dirname(fileURLToPath(import.meta.url));
const corpus = path.resolve(here, "../../../shared/corpus/flask_site");
const NAMED_ROUTES = { dp_sim: "/dp_sim/", covid_graph: "/covid_graph/" };

async function renderTime(dir: string, routes?: Record<string, string>): Promise<{ ms: number; cpuMs: number; pages: number }> {
  const samples: { ms: number; cpuMs: number; pages: number }[] = [];
  for (let i = 0; i < 3; i++) {
    const { stdout } = await run(process.execPath, [path.join(here, "render-time.js"), dir, ...(routes ? [JSON.stringify(routes)] : [])]);
    samples.push(JSON.parse(stdout) as { ms: number; cpuMs: number; pages: number });
  }
  return { ms: median(samples.map((s) => s.ms)), cpuMs: median(samples.map((s) => s.cpuMs)), pages: samples[0]!.pages };
}

if (!existsSync(corpus)) throw new Error(`corpus not found at ${corpus}`);
const work = tempDir("bench-render");
try {
  const c = await renderTime(corpus, NAMED_ROUTES);
  console.log(`start-up render, corpus: ${c.pages} pages in ${c.ms.toFixed(0)} ms wall, ${c.cpuMs.toFixed(0)} ms CPU (median of 3 fresh processes)`);
  const generated = path.join(work.dir, "generated");
  generateSite(generated, 1000);
  const g = await renderTime(generated);
  console.log(`start-up render, generated 1,000-post site: ${g.pages} pages in ${g.ms.toFixed(0)} ms wall, ${g.cpuMs.toFixed(0)} ms CPU (median of 3 fresh processes; target < 2000 ms)`);
  console.log(`load average: ${loadAverage()}`);
} finally {
  work.remove();
}
