// The library takes any logger with info/warn/error. pino (which padlock uses itself) is used as
// it is; anything else (console, winston…) gets `(message, fields)`, the order those expect.
import type { Logger } from "../log.js";
import type { LoggerLike } from "./api.js";

/** Without one: warnings and errors on the console, nothing else. */
const quiet: LoggerLike = {
  info: () => undefined,
  warn: (...args) => console.warn("padlock:", ...args),
  error: (...args) => console.error("padlock:", ...args),
};

export function asLogger(given: LoggerLike = quiet): Logger {
  if (isPino(given)) return given;
  const level =
    (name: "info" | "warn" | "error" | "debug") =>
    (first: unknown, ...rest: unknown[]): void => {
      const write = given[name]?.bind(given);
      if (!write) return;
      if (typeof first === "string") write(first, ...rest);
      else if (typeof rest[0] === "string") write(rest[0], first);
      else write(first, ...rest);
    };
  return { info: level("info"), warn: level("warn"), error: level("error"), debug: level("debug") } as unknown as Logger;
}

function isPino(l: LoggerLike): l is LoggerLike & Logger {
  return typeof (l as Partial<Logger>).child === "function" && typeof (l as Partial<Logger>).levels === "object";
}
