// Fetches the CA's ACME directory once for all checks that need it (reachability, what the CA
// offers, its clock), trusting the config's extra root (`ca_root`) for the API's TLS.
import tls from "node:tls";
import { describeNetworkError, describeResponse, isUntrustedCertificate, probeHttp } from "./http-probe.js";
import type { CaRoot } from "../acme/ca-root.js";
import type { AcmeDirectory } from "../acme/ca-directory.js";

export type DirectoryFetch =
  | { kind: "ok"; url: string; directory: AcmeDirectory; date?: string; sentAt: number; receivedAt: number }
  | { kind: "error"; url: string; found: string; fix: string };

export async function fetchDirectory(url: string, caRoot: CaRoot | undefined, timeoutMs: number): Promise<DirectoryFetch> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { kind: "error", url, found: `"${url}" is not a URL`, fix: "set ca: to letsencrypt, letsencrypt-staging, zerossl or the CA's https://…/directory URL" };
  }
  const secure = parsed.protocol === "https:";
  const host = parsed.hostname.replace(/^\[|\]$/g, "");
  const outcome = await probeHttp(
    {
      address: host,
      port: Number(parsed.port) || (secure ? 443 : 80),
      host: parsed.host.startsWith("[") ? parsed.host : parsed.hostname,
      path: parsed.pathname + parsed.search,
      tls: secure ? { ca: caRoot?.pem ? [...tls.rootCertificates, caRoot.pem] : undefined } : undefined,
    },
    timeoutMs,
  );
  if (outcome.kind === "error") {
    const found = `cannot fetch ${url}: ${describeNetworkError(outcome.code, outcome.message, timeoutMs)}`;
    if (isUntrustedCertificate(outcome.code)) {
      const fix = caRoot
        ? `ca_root (${caRoot.file}) does not sign the certificate of the CA's API; point ca_root at the root that does (for Pebble: the CA you made for its API certificate)`
        : "a private or test CA (Pebble) needs its API root trusted: add ca_root: /path/to/root.pem";
      return { kind: "error", url, found, fix };
    }
    return { kind: "error", url, found, fix: "check the URL, this machine's outgoing network (firewall, proxy) and whether the CA is up" };
  }
  if (outcome.status !== 200) {
    return {
      kind: "error",
      url,
      found: `${url} answered ${describeResponse(outcome.status, outcome.headers)}, not an ACME directory`,
      fix: "use the CA's directory URL (Let's Encrypt: https://acme-v02.api.letsencrypt.org/directory)",
    };
  }
  let directory: AcmeDirectory;
  try {
    directory = JSON.parse(outcome.body) as AcmeDirectory;
  } catch {
    return { kind: "error", url, found: `${url} answered 200 but not with JSON`, fix: "this is not an ACME directory; use the CA's directory URL" };
  }
  if (typeof directory !== "object" || directory === null || !directory.newOrder || !directory.newNonce || !directory.newAccount) {
    return { kind: "error", url, found: `${url} answered JSON without newNonce/newAccount/newOrder`, fix: "this is not an ACME directory; use the CA's directory URL" };
  }
  const date = outcome.headers.date;
  return { kind: "ok", url, directory, date, sentAt: outcome.sentAt, receivedAt: outcome.receivedAt };
}
