// Which CA the config points at, as far as the doctor needs to know: where its directory is,
// whether it is a public CA (which refuses local names), and the names it uses in CAA records.
import { readFileSync } from "node:fs";
import path from "node:path";
import type { Config } from "../config/schema.js";
import { KNOWN_CAS } from "../acme/ca-directory.js";

export interface CaTarget {
  /** The config's value: a known name or the directory URL. */
  name: string;
  /** Undefined for padlock's internal CA, which has no directory. */
  directoryUrl?: string;
  /** Public CAs validate from the internet and refuse names like localhost or *.test. */
  isPublic: boolean;
  /** Issuer domain names this CA accepts in CAA "issue" records; empty when only its directory can tell. */
  caaIdentities: string[];
}

// Issuer domain names each public CA accepts in CAA "issue" records (ZeroSSL issues through
// Sectigo; either name allows it).
const CAA_IDENTITIES: Record<string, string[]> = {
  letsencrypt: ["letsencrypt.org"],
  "letsencrypt-staging": ["letsencrypt.org"],
  zerossl: ["sectigo.com", "zerossl.com"],
};

/** Undefined when no CA is configured (padlock then serves plain HTTP only). */
export function caTargetOf(config: Config): CaTarget | undefined {
  if (!config.ca) return undefined;
  if (config.ca === "internal") return { name: "internal", isPublic: false, caaIdentities: [] };
  const known = KNOWN_CAS[config.ca];
  if (known) return { name: config.ca, directoryUrl: known.directoryUrl, isPublic: known.publicCa, caaIdentities: CAA_IDENTITIES[config.ca] ?? [] };
  return { name: config.ca, directoryUrl: config.ca, isPublic: false, caaIdentities: [] };
}

export interface CaRoot {
  file: string;
  pem?: string;
  error?: string;
}

/** The extra root the config trusts for the CA's API (`ca_root`), read from disk. */
export function readCaRoot(config: Config, baseDir: string): CaRoot | undefined {
  if (!config.ca_root) return undefined;
  const file = path.resolve(baseDir, config.ca_root);
  try {
    const pem = readFileSync(file, "utf8");
    if (!pem.includes("-----BEGIN CERTIFICATE-----")) return { file, error: `${file} holds no PEM certificate` };
    return { file, pem };
  } catch (err) {
    return { file, error: `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}` };
  }
}
