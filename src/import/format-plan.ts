// The import plan as people read it: per CA, the account and each certificate with where it
// comes from and goes, then what is left over or skipped and the command that removes it.
import { plural } from "../plural.js";
import { day, type CertificatePlan, type ImportPlan, type SkippedLineage } from "./certbot-plan.js";

const DAY_MS = 86_400_000;

export function formatPlan(plan: ImportPlan, now: number): string {
  const out: string[] = [`certbot folder ${plan.certbotDir} → padlock storage ${plan.storage}`, ""];
  for (const note of plan.notes) out.push(`! ${note}`, "");
  for (const ca of plan.cas) {
    out.push(`${ca.label}${ca.label === ca.directoryUrl ? "" : ` (${ca.directoryUrl})`}${ca.staging ? ": staging, browsers do not trust its certificates" : ""}`);
    if (ca.unused) out.push(`  ! ${ca.unused}`);
    const account = ca.account;
    if (account.action === "import") {
      out.push(`  account   import certbot's account ${account.certbotId}: ${account.url} (same key, same URL: renewals continue it)`);
      for (const note of account.notes) out.push(`              - ${note}`);
    } else {
      out.push(`  account   ${account.why}`);
    }
    for (const c of ca.certificates) out.push(...certificateLines(c, now));
    for (const l of ca.leftovers) out.push(...skippedLines("leftover", l));
    out.push("");
  }
  if (plan.cas.length === 0) out.push("Nothing to import.", "");
  if (plan.skipped.length) {
    out.push(`Skipped (${plural(plan.skipped.length, "lineage")}):`);
    for (const s of plan.skipped) out.push(...skippedLines("skip", s));
    out.push("");
  }
  if (plan.strays.length) {
    out.push("Not certbot lineages (left alone):");
    for (const s of plan.strays) out.push(`  ${s.folder}: ${s.why}`);
    out.push("");
  }
  return out.join("\n");
}

function certificateLines(c: CertificatePlan, now: number): string[] {
  const { info, meta } = c.cert;
  const verb = { write: "import", replace: "import", already: "imported", "keep-stored": "keep" }[c.action];
  const lines = [
    `  ${verb.padEnd(9)} ${meta.names.join(", ")}`,
    `              from lineage ${c.lineage} (${c.from}): serial ${info.serial}, valid until ${day(info.notAfter)} (${plural(Math.floor((info.notAfter.getTime() - now) / DAY_MS), "day")} left), ${meta.keyType} key`,
  ];
  if (c.action === "already") lines.push(`              already in ${c.folder}: nothing to do`);
  else if (c.action === "keep-stored") lines.push(`              not imported: ${c.stored ? `${c.folder} holds certificate ${c.stored.serial}, valid until ${day(c.stored.notAfter)}, which is kept` : `${c.folder} is kept as it is`}`);
  else lines.push(`              → ${c.folder}${c.action === "replace" ? ` (replacing certificate ${c.stored!.serial}, valid until ${day(c.stored!.notAfter)}, which is kept beside it as *.replaced-<time>)` : ""}`);
  if (c.site) lines.push(`              - for the site ${c.site}`);
  const r = c.revocation;
  if (r.status === "good") lines.push(`              - not revoked (the CA's CRL ${r.crl})`);
  else if (r.status === "unknown") lines.push(`              - revocation not checked: ${r.why}`);
  for (const note of c.notes) lines.push(`              - ${note}`);
  return lines;
}

function skippedLines(verb: string, s: SkippedLineage): string[] {
  return [`  ${verb.padEnd(9)} ${s.lineage}: ${s.why}`, `              delete it with: ${s.remove}`];
}
