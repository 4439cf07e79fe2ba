// A config problem carries where it is (file, line, key path) so every message reads
// `file:line: key: what is wrong, what was expected`.
import { PadlockError } from "../errors.js";

export interface ConfigProblem {
  file: string;
  /** Absent when the problem is the file itself (it cannot be read): the message says it all. */
  line?: number;
  key: string;
  message: string;
}

/** A problem found by a check, at a key path (line numbers are added when the file is known). */
export interface PathProblem {
  path: (string | number)[];
  message: string;
}

export function formatProblem(p: ConfigProblem): string {
  if (p.line === undefined) return p.message;
  return `${p.file}:${p.line}: ${p.key || "(top level)"}: ${p.message}`;
}

export class ConfigError extends PadlockError {
  constructor(readonly problems: ConfigProblem[]) {
    super("CONFIG_INVALID", problems.map(formatProblem).join("\n"));
    this.name = "ConfigError";
  }
}
