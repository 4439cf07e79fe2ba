// What every doctor check returns: one row of the report.
export type CheckStatus = "ok" | "warn" | "fail";

export interface CheckResult {
  status: CheckStatus;
  /** Short name of what was checked, e.g. "DNS blog.example.com". */
  check: string;
  /** What the doctor saw, in plain words. */
  found: string;
  /** What to do about it; empty when nothing needs doing. */
  fix: string;
}

export const ok = (check: string, found: string): CheckResult => ({ status: "ok", check, found, fix: "" });
export const warn = (check: string, found: string, fix: string): CheckResult => ({ status: "warn", check, found, fix });
export const fail = (check: string, found: string, fix: string): CheckResult => ({ status: "fail", check, found, fix });
