// Log lines that can come by the thousand, kept from flooding the log: lines clients cause (an
// unknown ACME token, a handshake for a name without a certificate, a request that failed), and a
// CA failing the same way for every name set at once. Each kind of line is written at most once
// a minute, with the count of the ones held back written when the minute is over; text a client
// sent is cut and its control characters escaped (clientText).
import type { Logger } from "./log.js";
import { systemClock, type Clock } from "./time/clock.js";

/** Longest piece of client-supplied text in a log line. */
export const CLIENT_TEXT_MAX = 200;

/** Client-supplied text fit for a log line: control characters escaped, at most `max` characters. */
export function clientText(value: string, max = CLIENT_TEXT_MAX): string {
  // eslint-disable-next-line no-control-regex
  const escaped = value.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`);
  return escaped.length <= max ? escaped : `${escaped.slice(0, max)}… (${escaped.length - max} more characters)`;
}

interface KindState {
  level: "warn" | "error";
  what: string;
  heldBack: number;
}

/** Distinct kinds tracked at once; beyond that, new kinds are counted together as one. */
const MAX_KINDS = 256;
const OTHER_KINDS = "(other kinds)";

export class RepeatLimitedLog {
  /** Kinds written in the current minute, with what was held back since. */
  private readonly kinds = new Map<string, KindState>();

  constructor(
    private readonly log: Logger,
    private readonly intervalMs = 60_000,
    private readonly clock: Clock = systemClock,
  ) {}

  /**
   * Writes the line unless a line of this kind was written less than a minute ago. `kind` names
   * what happened (never a client's text: a client must not be able to make up new kinds).
   */
  warn(kind: string, fields: object, message: string): void {
    this.write("warn", kind, fields, message);
  }

  error(kind: string, fields: object, message: string): void {
    this.write("error", kind, fields, message);
  }

  private write(level: "warn" | "error", kind: string, fields: object, message: string): void {
    if (!this.kinds.has(kind) && this.kinds.size >= MAX_KINDS) {
      kind = OTHER_KINDS;
      fields = {};
      message = `more than ${MAX_KINDS} kinds of repeated lines within a minute; the rest are counted here`;
    }
    const state = this.kinds.get(kind);
    if (state) {
      state.heldBack++;
      return;
    }
    this.log[level](fields, message);
    this.kinds.set(kind, { level, what: message, heldBack: 0 });
    this.clock.setTimeout(() => this.endMinute(kind), this.intervalMs);
  }

  private endMinute(kind: string): void {
    const state = this.kinds.get(kind)!;
    this.kinds.delete(kind);
    if (state.heldBack > 0) {
      this.log[state.level]({ held_back: state.heldBack }, `${state.heldBack} more like this in the last ${Math.round(this.intervalMs / 1000)} s, not logged: ${state.what}`);
    }
  }
}
