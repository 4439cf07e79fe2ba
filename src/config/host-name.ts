// What a valid host name is in a site's `hosts:`: lower-case DNS labels, a wildcard only as the
// whole first label, or an IP address; and one spelling per name, to compare names by.
import { isIP } from "node:net";

/** Lower case; IPv6 addresses in their short form (Node prints 0:0:0:0:0:0:0:1 for ::1). */
export function canonicalName(name: string): string {
  const lower = name.toLowerCase();
  return isIP(lower) === 6 ? new URL(`http://[${lower}]/`).hostname.slice(1, -1) : lower;
}

const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/i;

/** Why a host name is invalid, or undefined when it is fine. */
export function hostNameProblem(host: string): string | undefined {
  if (isIP(host)) return undefined;
  const name = host.startsWith("*.") ? host.slice(2) : host;
  if (name.includes("*")) return `"${host}" is not a valid host name: a wildcard may only be the whole first label, as in *.example.com`;
  if (name.endsWith(".")) return `"${host}" is not a valid host name: remove the trailing dot`;
  if (/[A-Z]/.test(name)) return `"${host}" must be written in lower case`;
  const labels = name.split(".");
  const bad = labels.find((l) => !LABEL.test(l));
  if (bad !== undefined) {
    return `"${host}" is not a valid host name: label "${bad}" must be 1-63 letters, digits or hyphens, not starting or ending with a hyphen`;
  }
  if (name.length > 253) return `"${host}" is longer than 253 characters`;
  return undefined;
}
