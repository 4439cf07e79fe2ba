// Everything about a folder that a change would alter: each entry's kind, mode, owner,
// modification time and content (or link target), to show an import left certbot's folder alone.
import { createHash } from "node:crypto";
import { lstatSync, readdirSync, readFileSync, readlinkSync } from "node:fs";
import path from "node:path";

/** Every path under `dir`, relative to it ("" for dir itself). */
export function walkFolder(dir: string, rel = ""): string[] {
  const here = path.join(dir, rel);
  if (!lstatSync(here).isDirectory()) return [rel];
  return [rel, ...readdirSync(here).flatMap((name) => walkFolder(dir, path.join(rel, name)))];
}

export function snapshotFolder(dir: string): Record<string, string> {
  const entries: Record<string, string> = {};
  for (const rel of walkFolder(dir).sort()) {
    const full = path.join(dir, rel);
    const st = lstatSync(full);
    const content = st.isSymbolicLink() ? `-> ${readlinkSync(full)}` : st.isFile() ? createHash("sha256").update(readFileSync(full)).digest("hex") : "dir";
    entries[rel || "."] = `${(st.mode & 0o7777).toString(8)} ${st.uid}:${st.gid} ${st.mtimeMs} ${content}`;
  }
  return entries;
}
