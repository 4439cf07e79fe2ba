// Check: the config file loads (YAML, schema, cross-field checks) — everything else needs it.
import { loadConfigFile } from "../../config/load.js";
import { ConfigError, formatProblem } from "../../config/problems.js";
import type { Config } from "../../config/schema.js";
import { fail, ok, type CheckResult } from "../check-result.js";

export function checkConfigValid(file: string): { result: CheckResult; config?: Config } {
  try {
    const config = loadConfigFile(file);
    const names = config.sites.reduce((n, s) => n + s.hosts.length, 0);
    return { result: ok("config", `${file} is valid: ${config.sites.length} site(s), ${names} host name(s)`), config };
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return {
      result: fail(
        "config",
        `${file} has ${err.problems.length} problem(s):\n${err.problems.map(formatProblem).join("\n")}`,
        "correct each line listed (`padlock schema` prints every accepted key); the other checks run once the config is valid",
      ),
    };
  }
}
