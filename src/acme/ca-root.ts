// The extra root the config trusts for the CA's API (`ca_root`: a private or test CA such as
// Pebble), read from disk: for the certificate manager, and for the doctor's directory check.
import { readFileSync } from "node:fs";
import path from "node:path";
import type { Config } from "../config/schema.js";
import { currentUserLabel } from "../system/users.js";

export interface CaRoot {
  file: string;
  pem?: string;
  /** Why the file cannot serve as the root, naming the file. */
  error?: string;
}

/** Undefined when the config sets no ca_root. */
export function readCaRoot(config: Config, baseDir: string): CaRoot | undefined {
  if (!config.ca_root) return undefined;
  const file = path.resolve(baseDir, config.ca_root);
  try {
    const pem = readFileSync(file, "utf8");
    if (!pem.includes("-----BEGIN CERTIFICATE-----")) return { file, error: `${file} is not a PEM certificate` };
    return { file, pem };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "EACCES") {
      // Read on a reload (or by the doctor) as the user padlock runs as, which may not be the file's owner.
      const who = currentUserLabel();
      return { file, error: `cannot read ${file}: permission denied (EACCES) for ${who}, the user padlock reads it as${config.user ? " (user: in the config)" : ""}; make it readable by ${who}, e.g. chmod a+r ${file} (and a+x on its folders)` };
    }
    return { file, error: `cannot read ${file}: ${code === "ENOENT" ? "file not found" : (code ?? String(err))}` };
  }
}
