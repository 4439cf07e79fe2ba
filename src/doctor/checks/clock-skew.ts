// Check: this machine's clock against the CA's (its directory's Date header). A clock off by
// minutes makes fresh certificates look not-yet-valid and renewal windows land at the wrong time.
import { fail, ok, warn, type CheckResult } from "../check-result.js";
import type { DirectoryFetch } from "../ca-directory.js";

/** The Date header has one-second resolution; a few seconds of difference is noise. */
const OK_SKEW_MS = 30_000;
const FAIL_SKEW_MS = 5 * 60_000;

export function checkClockSkew(fetched: DirectoryFetch & { kind: "ok" }): CheckResult {
  const check = "clock";
  const caTime = fetched.date ? Date.parse(fetched.date) : NaN;
  if (Number.isNaN(caTime)) return warn(check, `the CA's directory sent no usable Date header${fetched.date ? ` ("${fetched.date}")` : ""}`, "nothing to do; the clock could not be compared");
  // The CA stamped the answer somewhere between sending and receiving.
  const localTime = (fetched.sentAt + fetched.receivedAt) / 2;
  const skew = localTime - caTime;
  const said = `this machine's clock is ${describeDuration(Math.abs(skew))} ${skew > 0 ? "ahead of" : "behind"} the CA's (CA: ${new Date(caTime).toISOString()}, here: ${new Date(localTime).toISOString()})`;
  const fix = "turn on time synchronisation: sudo timedatectl set-ntp true (or install chrony)";
  if (Math.abs(skew) <= OK_SKEW_MS) return ok(check, `within ${OK_SKEW_MS / 1000} s of the CA's clock`);
  if (Math.abs(skew) <= FAIL_SKEW_MS) return warn(check, said, fix);
  return fail(check, said, fix);
}

export function describeDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 120) return `${s} s`;
  const m = Math.round(s / 60);
  if (m < 120) return `${m} min`;
  const h = Math.round(m / 6) / 10;
  if (h < 48) return `${h} h`;
  return `${Math.round(h / 2.4) / 10} days`;
}
