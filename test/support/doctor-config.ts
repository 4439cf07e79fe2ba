// Writes a padlock.yaml for doctor tests into a fresh temp folder.
import { writeFileSync } from "node:fs";
import path from "node:path";
import { stringify } from "yaml";
import { tempDir } from "./env.js";

export function writeDoctorConfig(config: Record<string, unknown>): { dir: string; file: string } {
  const { dir } = tempDir("doctor");
  const file = path.join(dir, "padlock.yaml");
  writeFileSync(file, stringify(config));
  return { dir, file };
}
