// How a command ends on bad input: one clear message on stderr and exit code 2, never a trace.

/** Exit code 2 is bad input (usage, config); a command may pass 1 for a failed operation. */
export function fail(message: string, code = 2): never {
  process.stderr.write(`padlock: ${message}\n`);
  process.exit(code);
}
