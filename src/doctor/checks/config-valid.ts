// Check: the config file loads (YAML, schema, cross-field checks) — everything else needs it.
import { loadConfigFile } from "../../config/load.js";
import { ConfigError, formatProblem } from "../../config/problems.js";
import type { Config } from "../../config/schema.js";
import { fail, ok, type CheckResult } from "../check-result.js";
import { plural } from "../../plural.js";

export function checkConfigValid(file: string): { result: CheckResult; config?: Config } {
  try {
    const config = loadConfigFile(file);
    const names = config.sites.reduce((n, s) => n + s.hosts.length, 0);
    return { result: ok("config", `${file} is valid: ${plural(config.sites.length, "site")}, ${plural(names, "host name")}`), config };
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    if (err.problems[0]!.line === undefined) return { result: fail("config", err.message, "name the config file with --config (or write one there)") };
    return {
      result: fail(
        "config",
        `${file} has ${plural(err.problems.length, "problem")}:\n${err.problems.map(formatProblem).join("\n")}`,
        "correct each line listed (`padlock schema` prints every accepted key); the other checks run once the config is valid",
      ),
    };
  }
}
