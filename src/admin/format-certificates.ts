// `padlock certs list` and `show` for people: one row per name set, dates in UTC to the minute.
// The list's last error is the one still standing (failures since the last success); `show`
// also gives the last one overcome.
import { row, wrap } from "../doctor/format-table.js";
import type { CertificateRecord } from "../certificates/certificate-records.js";

const GAP = "  ";

export function formatCertificateTable(records: CertificateRecord[], width = 100): string {
  if (records.length === 0) return "No certificates stored yet.\n";
  const header = ["NAMES", "ISSUER", "NOT AFTER", "DAYS LEFT", "NEXT RENEWAL", "LAST ERROR"];
  const rows = records.map((r) => [r.names.join(", "), r.environment, minute(r.notAfter), String(r.daysLeft), r.nextRenewal ? minute(r.nextRenewal) : "-", r.failures > 0 ? (r.lastError ?? "") : "-"]);
  const fixed = header.slice(0, -1).map((h, i) => Math.max(h.length, ...rows.map((cells) => cells[i]!.length)));
  const errorWidth = Math.max(20, width - fixed.reduce((a, b) => a + b, 0) - GAP.length * fixed.length);
  const widths = [...fixed, errorWidth];
  const line = (cells: string[][]) => row(widths, cells);
  const lines = [line(header.map((h) => [h])), line(widths.map((w) => ["-".repeat(w)]))];
  for (const cells of rows) lines.push(line(cells.map((cell, i) => (i === cells.length - 1 ? wrap(cell, errorWidth) : [cell]))));
  return lines.join("\n") + "\n";
}

export function formatCertificateDetails(r: CertificateRecord): string {
  const fields: [string, string | undefined][] = [
    ["names", r.names.join(", ")],
    ["CA", `${r.environment} (${r.ca})`],
    ["issuer", r.issuer],
    ["serial", r.serial],
    ["valid", `${minute(r.notBefore)} – ${minute(r.notAfter)} (${r.daysLeft} days left)`],
    ["next renewal", r.nextRenewal ? `${minute(r.nextRenewal)} (${r.renewalReason === "ari-window" ? "ari-window: inside the CA's ARI window" : "expiring: at 2/3 of the lifetime"})` : undefined],
    ["ARI window", r.ariWindow ? `${minute(r.ariWindow.start)} – ${minute(r.ariWindow.end)}` : undefined],
    ["failures", r.failures > 0 ? `${r.failures} in a row${r.nextRetry ? `, next attempt ${minute(r.nextRetry)}` : ""}` : "none"],
    ["last error", r.lastError ? `${r.lastErrorAt ? `${minute(r.lastErrorAt)}: ` : ""}${r.lastError}` : undefined],
    ["rate limited", r.rateLimitedAt.length ? r.rateLimitedAt.map(minute).join(", ") : undefined],
    ["last order", r.lastOrder ? `${minute(r.lastOrder.at)}: ${r.lastOrder.reason === "new" ? "new certificate" : `renewal, reason ${r.lastOrder.reason}`}, ${r.lastOrder.outcome}` : undefined],
    ["storage", r.source === "files" ? undefined : r.folder],
    ["also in", r.duplicates?.length ? `${r.duplicates.join(", ")} (the same names in another order; padlock adopts them at its next start)` : undefined],
    ["state from", r.source === "running" ? "the running padlock" : r.source === "files" ? "the files the site brings (padlock serves them and never renews them)" : "storage (padlock is not running)"],
  ];
  return fields.filter(([, v]) => v !== undefined).map(([k, v]) => `${(k + ":").padEnd(14)}${v}`).join("\n") + "\n";
}

function minute(iso: string): string {
  return iso.replace("T", " ").replace(/:\d\d(\.\d+)?Z$/, "Z");
}
