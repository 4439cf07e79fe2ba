// The doctor's report as a terminal table: status, check, what was found, how to fix — long
// text wrapped inside its column so a row reads top to bottom.
import type { CheckResult, CheckStatus } from "./check-result.js";

const STATUS_LABEL: Record<CheckStatus, string> = { ok: "ok", warn: "WARN", fail: "FAIL" };
const GAP = "  ";
const STATUS_WIDTH = 6;
const MAX_CHECK_WIDTH = 26;

export function formatTable(results: CheckResult[], width = 100): string {
  const total = Math.max(width, 60);
  const checkWidth = Math.min(MAX_CHECK_WIDTH, Math.max("CHECK".length, ...results.map((r) => r.check.length)));
  const rest = total - STATUS_WIDTH - checkWidth - GAP.length * 3;
  const foundWidth = Math.ceil(rest * 0.55);
  const fixWidth = rest - foundWidth;
  const widths = [STATUS_WIDTH, checkWidth, foundWidth, fixWidth];

  const lines = [row(widths, [["STATUS"], ["CHECK"], ["FOUND"], ["FIX"]]), row(widths, widths.map((w) => ["-".repeat(w)]))];
  results.forEach((r, i) => {
    if (i > 0) lines.push("");
    lines.push(row(widths, [[STATUS_LABEL[r.status]], wrap(r.check, checkWidth), wrap(r.found, foundWidth), wrap(r.fix || "-", fixWidth)]));
  });
  lines.push("", summary(results));
  return lines.join("\n") + "\n";
}

export function summary(results: CheckResult[]): string {
  const count = (s: CheckStatus) => results.filter((r) => r.status === s).length;
  const failed = count("fail");
  const warned = count("warn");
  return `${failed} failed, ${warned} warning${warned === 1 ? "" : "s"}, ${count("ok")} ok`;
}

/** One table row whose cells may wrap onto several lines, columns padded to `widths`. */
export function row(widths: number[], cells: string[][]): string {
  const height = Math.max(...cells.map((c) => c.length));
  const out: string[] = [];
  for (let line = 0; line < height; line++) {
    out.push(cells.map((c, i) => (c[line] ?? "").padEnd(widths[i]!)).join(GAP).trimEnd());
  }
  return out.join("\n");
}

/** Greedy word wrap; words longer than the column (URLs, paths) are cut. Keeps explicit newlines. */
export function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  for (const paragraph of text.split("\n")) {
    let current = "";
    for (const word of paragraph.split(/ +/).filter(Boolean)) {
      let piece = word;
      if (current && current.length + 1 + piece.length <= width) {
        current += " " + piece;
        continue;
      }
      if (current) lines.push(current);
      while (piece.length > width) {
        lines.push(piece.slice(0, width));
        piece = piece.slice(width);
      }
      current = piece;
    }
    lines.push(current);
  }
  return lines;
}
