// Which CA the config points at, as far as the doctor needs to know: where its directory is,
// whether it is a public CA (which refuses local names), and the names it uses in CAA records.
import type { Config } from "../config/schema.js";
import { KNOWN_CAS } from "../config/certificate-source.js";

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

/** Undefined when no CA is configured (padlock then serves plain HTTP only). */
export function caTargetOf(config: Config): CaTarget | undefined {
  if (!config.ca) return undefined;
  if (config.ca === "internal") return { name: "internal", isPublic: false, caaIdentities: [] };
  const known = KNOWN_CAS[config.ca];
  if (known) return { name: config.ca, directoryUrl: known.directoryUrl, isPublic: known.publicCa, caaIdentities: known.caaIdentities };
  return { name: config.ca, directoryUrl: config.ca, isPublic: false, caaIdentities: [] };
}
