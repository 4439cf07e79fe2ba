// CPU time a process has used, read from Linux /proc: per-request CPU is little skewed by other
// processes' load, unlike requests per second.
import { readFileSync } from "node:fs";

/** Linux USER_HZ: /proc/PID/stat counts CPU time in these ticks. */
export const CLOCK_TICKS_PER_SECOND = 100;

/** utime + stime of a process in clock ticks (fields 14 and 15 of /proc/PID/stat). */
export function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return Number(fields[11]) + Number(fields[12]);
}
