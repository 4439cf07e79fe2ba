// A command's config: the file loaded and checked, or exit 2 listing every problem in it. Apart
// from exit.ts so that commands without a config (and --help, --version) load no config code.
import { loadConfigFile } from "../config/load.js";
import { ConfigError } from "../config/problems.js";
import type { Config } from "../config/schema.js";
import { plural } from "../plural.js";
import { fail } from "./exit.js";

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
