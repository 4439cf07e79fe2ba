// Start-up render time of one blog folder in a fresh process (cold JIT, as at start-up).
// Prints JSON: { ms (wall), cpuMs (this process's CPU time), pages, phases }.
import { renderSite } from "../src/blog/render.js";

const [dir, routes] = process.argv.slice(2);
const cpuBefore = process.cpuUsage();
const site = await renderSite({ dir: dir!, namedRoutes: routes ? (JSON.parse(routes) as Record<string, string>) : {} });
const cpu = process.cpuUsage(cpuBefore);
process.stdout.write(JSON.stringify({ ms: site.durationMs, cpuMs: (cpu.user + cpu.system) / 1000, pages: site.routes.size, phases: site.timings, problems: site.problems.length }) + "\n");
