// Check: each certificate a site brings (tls.certificate and tls.key) is one padlock can serve:
// both files readable, the key the certificate's, every host of the site covered, not expired
// and not in the last third of its life (padlock does not renew it).
import type { ProvidedFiles } from "../../config/certificate-source.js";
import { lastThirdStart } from "../../time/renewal-timing.js";
import { readProvidedPair } from "../../tls/provided-certificates.js";
import { fail, ok, warn, type CheckResult } from "../check-result.js";

const DAY_MS = 86_400_000;

export async function checkProvidedCertificates(pairs: ProvidedFiles[], now: number = Date.now()): Promise<CheckResult[]> {
  return Promise.all(pairs.map((files) => checkPair(files, now)));
}

async function checkPair(files: ProvidedFiles, now: number): Promise<CheckResult> {
  const check = `certificate ${files.hosts.join(", ")} (${files.at})`;
  let pair;
  try {
    pair = await readProvidedPair(files);
  } catch (err) {
    return fail(check, (err as Error).message, "fix the files named; padlock refuses to start (or to reload) with a pair it cannot serve");
  }
  const days = Math.floor((pair.notAfter.getTime() - now) / DAY_MS);
  const found = `from ${files.certificate}, serial ${pair.serial}, valid until ${pair.notAfter.toISOString()} (${days} days left); padlock serves it and does not renew it`;
  if (pair.notAfter.getTime() <= now) return fail(check, `expired: ${found}`, `write a current certificate and key over ${files.certificate} and ${files.key}`);
  if (pair.uncovered.length) return fail(check, `it does not cover ${pair.uncovered.join(", ")}: ${found}`, "use a certificate that names every host of the site, or move the others to a site of their own");
  if (now >= lastThirdStart(pair.notBefore, pair.notAfter)) return warn(check, `in the last third of its life: ${found}`, `renew it where it comes from and write it over ${files.certificate} and ${files.key}: padlock picks it up within seconds`);
  return ok(check, found);
}
