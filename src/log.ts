// One logger for the process: JSON lines for machines, readable lines on a terminal.
import { pino, type Logger } from "pino";
import { createRequire } from "node:module";

// pino-pretty (CommonJS) is required only when pretty output is chosen: services log JSON and
// should not pay for loading it at start-up.
const require = createRequire(import.meta.url);

export type { Logger };
export type LogFormat = "json" | "pretty";

export function createLogger(options: { level?: string; format?: LogFormat } = {}): Logger {
  const format = options.format ?? (process.stdout.isTTY ? "pretty" : "json");
  const level = options.level ?? process.env.PADLOCK_LOG_LEVEL ?? "info";
  if (format === "pretty") {
    const pretty = require("pino-pretty") as typeof import("pino-pretty");
    return pino({ level, base: undefined }, pretty({ colorize: true, sync: true, ignore: "pid,hostname", translateTime: "HH:MM:ss" }));
  }
  return pino({ level, base: undefined, timestamp: pino.stdTimeFunctions.isoTime }, pino.destination({ sync: true }));
}
