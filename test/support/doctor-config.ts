// Writes a padlock.yaml for doctor tests into a fresh temp folder.
import { mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { stringify } from "yaml";

export function writeDoctorConfig(config: Record<string, unknown>): { dir: string; file: string } {
  const dir = mkdtempSync(path.join(os.tmpdir(), "padlock-doctor-"));
  const file = path.join(dir, "padlock.yaml");
  writeFileSync(file, stringify(config));
  return { dir, file };
}
