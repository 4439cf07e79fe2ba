// One logger for the process: JSON lines for machines, readable lines on a terminal.
import { pino, type Logger } from "pino";
import pretty from "pino-pretty";

export type { Logger };
export type LogFormat = "json" | "pretty";

export function createLogger(options: { level?: string; format?: LogFormat } = {}): Logger {
  const format = options.format ?? (process.stdout.isTTY ? "pretty" : "json");
  const level = options.level ?? process.env.PADLOCK_LOG_LEVEL ?? "info";
  if (format === "pretty") {
    return pino({ level, base: undefined }, pretty({ colorize: true, sync: true, ignore: "pid,hostname", translateTime: "HH:MM:ss" }));
  }
  return pino({ level, base: undefined, timestamp: pino.stdTimeFunctions.isoTime }, pino.destination({ sync: true }));
}
