// Check: the certificates already in storage — expiry, which CA and environment issued them,
// the renewal plan (ARI window), the last renewal error and recent rate limiting — from the
// files padlock keeps beside each certificate.
import { existsSync } from "node:fs";
import { readCertificateRecords, type CertificateRecord } from "../../certificates/certificate-records.js";
import { FsStorage } from "../../storage/fs-storage.js";
import type { Storage } from "../../storage/storage.js";
import { fail, ok, warn, type CheckResult } from "../check-result.js";

const RECENT_MS = 7 * 86_400_000;

export async function checkExistingCertificates(storageDir: string, directoryUrl: string, now: number = Date.now()): Promise<CheckResult[]> {
  if (!existsSync(storageDir)) return [ok("certificates", "none stored yet")];
  return checkStoredCertificates(FsStorage.existing(storageDir), directoryUrl, now);
}

/** The same for any storage (Redis). */
export async function checkStoredCertificates(storage: Storage, directoryUrl: string, now: number = Date.now()): Promise<CheckResult[]> {
  let records: CertificateRecord[];
  try {
    records = await readCertificateRecords(storage, now);
  } catch {
    return []; // the storage check says why the storage cannot be used
  }
  if (records.length === 0) return [ok("certificates", "none stored yet")];
  return records.map((r) => checkRecord(r, directoryUrl, now));
}

function checkRecord(r: CertificateRecord, directoryUrl: string, now: number): CheckResult {
  const check = `certificate ${r.names.join(", ")}`;
  const notAfter = Date.parse(r.notAfter);
  const life = notAfter - Date.parse(r.notBefore);
  const found = [`issued by ${r.environment} (${r.issuer}), valid until ${r.notAfter} (${r.daysLeft} days left)`];
  if (r.nextRenewal) found.push(`renewal planned ${r.nextRenewal}${r.ariWindow ? ` inside the CA's ARI window ${r.ariWindow.start} – ${r.ariWindow.end}` : " at 2/3 of its lifetime"}`);
  const recentLimits = r.rateLimitedAt.filter((t) => now - Date.parse(t) < RECENT_MS);
  if (recentLimits.length) found.push(`the CA rate limited renewals ${recentLimits.length} time(s) in the last 7 days, last at ${recentLimits.at(-1)}`);
  if (r.failures > 0 && r.lastError) found.push(`${r.failures} failed renewal attempt(s) in a row, last at ${r.lastErrorAt ?? "?"}: ${r.lastError}`);
  const otherCa = r.ca !== directoryUrl;
  if (otherCa) found.push(`from ${r.ca}, not the CA in the config, so it is not used`);
  const text = found.join("; ");

  if (notAfter <= now) return (otherCa ? warn : fail)(check, `expired: ${text}`, otherCa ? `padlock certs forget ${r.folder}` : "start padlock: it orders a new certificate at once; if that fails, the log and `padlock certs show NAME` say why");
  if (otherCa) return warn(check, text, `nothing needed; \`padlock certs forget ${r.folder}\` removes it`);
  if (recentLimits.length) return warn(check, text, "let the limit reset (padlock honours the CA's Retry-After); avoid forced renewals and fix the cause of failed orders first");
  if (r.failures > 0) return warn(check, text, `fix what the last error says, then \`padlock certs renew ${r.names[0]} --force\``);
  if (/staging/i.test(r.environment)) return warn(check, text, "browsers do not trust staging certificates: switch ca: to the production CA once issuance works");
  if (now >= notAfter - life / 3) return warn(check, `in the last third of its life and not renewed: ${text}`, `check the log for renewal errors, or run \`padlock certs renew ${r.names[0]} --force\``);
  return ok(check, text);
}
