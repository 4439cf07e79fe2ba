// The CA's directory document, fetched and checked to really be ACME before anything is ordered,
// and what it says about profiles. (Which CA the config names: config/certificate-source.ts.)
import type { CaTransport } from "./ca-transport.js";

export interface AcmeDirectory {
  newNonce: string;
  newAccount: string;
  newOrder: string;
  revokeCert?: string;
  keyChange?: string;
  /** RFC 9773 (ARI). */
  renewalInfo?: string;
  meta?: {
    termsOfService?: string;
    website?: string;
    caaIdentities?: string[];
    externalAccountRequired?: boolean;
    /** draft-aaron-acme-profiles: profile name → description. */
    profiles?: Record<string, string>;
  };
}

/** Something wrong with the CA as configured that retrying will not fix. */
export class CaSetupError extends Error {
  override name = "CaSetupError";
}

export async function fetchDirectory(transport: CaTransport, directoryUrl: string): Promise<AcmeDirectory> {
  const res = await transport.request(directoryUrl, "get");
  const d = res.data as Partial<AcmeDirectory> | string;
  const isAcme = typeof d === "object" && d !== null && ["newNonce", "newAccount", "newOrder"].every((k) => typeof (d as Record<string, unknown>)[k] === "string");
  if (res.status !== 200 || !isAcme) {
    const what = res.status !== 200 ? `answered HTTP ${res.status}` : "answered something that is not an ACME directory (no newNonce, newAccount and newOrder URLs)";
    throw new CaSetupError(`ca: ${directoryUrl} is not an ACME directory: it ${what}. Use letsencrypt, letsencrypt-staging, zerossl, or the full URL of your CA's ACME directory (often ending in /directory)`);
  }
  return d as AcmeDirectory;
}

/** Why a site's `tls.profile` cannot be used with this CA, if it cannot. */
export function profileProblem(directory: AcmeDirectory, directoryUrl: string, profile: string | undefined): string | undefined {
  if (profile === undefined) return undefined;
  const offered = Object.keys(directory.meta?.profiles ?? {});
  if (offered.length === 0) return `tls.profile: the CA at ${directoryUrl} offers no certificate profiles; remove profile: ${profile}`;
  if (!offered.includes(profile)) return `tls.profile: the CA at ${directoryUrl} does not offer the profile "${profile}"; it offers ${offered.join(", ")}`;
  return undefined;
}
