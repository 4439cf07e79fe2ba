// `padlock storage copy FROM TO [--force]`: moves a padlock's storage between a folder and Redis
// (either way). Run it with the instances stopped, or at least with none ordering.
import { copyEntries, openCopyEnd, planCopy } from "../storage/copy-storage.js";
import { redact } from "../storage/redis-settings.js";
import { fail } from "./exit.js";

export async function storageCopyCommand(from: string, to: string, flags: { force?: boolean }): Promise<void> {
  const ends = [];
  try {
    const source = await openCopyEnd(from, "source");
    ends.push(source);
    const destination = await openCopyEnd(to, "destination");
    ends.push(destination);
    const plan = await planCopy(source, destination, flags.force === true);
    if (plan.newer.length > 0) {
      const lines = plan.newer.map((n) => `  ${n.key}: ${new Date(n.destination.modified).toISOString()} there, ${new Date(n.source.modified).toISOString()} in ${redact(from)}`);
      fail(`nothing copied: ${plan.newer.length} entr${plan.newer.length === 1 ? "y is" : "ies are"} newer in ${redact(to)} than in ${redact(from)}:\n${lines.join("\n")}\nCopy the other way, or run again with --force to overwrite them`, 1);
    }
    const written = await copyEntries(source, destination, plan);
    const forced = plan.copy.filter((c) => c.why === "newer, forced").length;
    process.stdout.write(`copied ${written} entr${written === 1 ? "y" : "ies"} from ${redact(from)} to ${redact(to)}` + `${plan.unchanged.length ? `; ${plan.unchanged.length} already there unchanged` : ""}${forced ? `; ${forced} newer one(s) overwritten (--force)` : ""}\n`);
  } catch (err) {
    fail((err as Error).message, 1);
  } finally {
    await Promise.all(ends.map((e) => e.close?.()));
  }
}
