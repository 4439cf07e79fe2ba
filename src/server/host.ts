// Host header / :authority parsing: the only place that decides what host a request is for.
import { isIP } from "node:net";

// Consecutive requests mostly carry the same Host header: the last answer is kept.
let lastHeader: string | undefined;
let lastHost = "";

/** The host name of a Host header without the port, lower-cased; "" when absent or malformed. */
export function hostOf(header: string | undefined): string {
  if (header !== lastHeader) {
    lastHost = parseHost(header);
    lastHeader = header;
  }
  return lastHost;
}

function parseHost(header: string | undefined): string {
  if (!header) return "";
  let host = header.trim().toLowerCase();
  if (host.startsWith("[")) {
    const end = host.indexOf("]");
    if (end < 0) return "";
    host = host.slice(1, end);
    return isIP(host) === 6 ? host : "";
  }
  const colon = host.lastIndexOf(":");
  if (colon >= 0) {
    if (!/^\d{0,5}$/.test(host.slice(colon + 1))) return "";
    host = host.slice(0, colon);
  }
  if (host.endsWith(".")) host = host.slice(0, -1);
  return /^[a-z0-9.*_-]+$/.test(host) ? host : "";
}

export function formatHostPort(host: string, port: number, defaultPort: number): string {
  const h = isIP(host) === 6 ? `[${host}]` : host;
  return port === defaultPort ? h : `${h}:${port}`;
}
