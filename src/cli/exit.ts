// How a command ends on bad input: one clear message on stderr and exit code 2, never a trace.
import { loadConfigFile } from "../config/load.js";
import { ConfigError } from "../config/problems.js";
import type { Config } from "../config/schema.js";
import { plural } from "../plural.js";

/** Exit code 2 is bad input (usage, config); a command may pass 1 for a failed operation. */
export function fail(message: string, code = 2): never {
  process.stderr.write(`padlock: ${message}\n`);
  process.exit(code);
}

/** The config in `file`, or exit 2 listing every problem in it. */
export function loadConfigOrExit(file: string): Config {
  try {
    return loadConfigFile(file);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    // A file that cannot be read is one problem with no line to point at: say just that.
    if (err.problems.length === 1 && err.problems[0]!.line === undefined) fail(err.message);
    fail(`the config has ${plural(err.problems.length, "problem")}:\n${err.message}`);
  }
}
