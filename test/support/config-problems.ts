// The problems padlock reports for a config text, one `file:line: key: message` line each
// (none when the config is accepted).
import { parseConfig } from "../../src/config/load.js";
import { ConfigError } from "../../src/config/problems.js";

export function configProblems(yaml: string): string[] {
  try {
    parseConfig(yaml, "padlock.yaml");
  } catch (err) {
    if (err instanceof ConfigError) return err.message.split("\n");
    throw err;
  }
  return [];
}
