// The admin endpoint's requests and answers: JSON over HTTP on a Unix socket. Shared by the
// server in padlock and the `padlock certs` client so the two cannot drift apart.
import path from "node:path";
import type { Config } from "../config/schema.js";
import { parseLoopbackListen } from "../config/addresses.js";
import type { CertificateRecord } from "../certificates/certificate-records.js";

export const ADMIN_PATHS = {
  list: "/v1/certificates",
  renew: "/v1/certificates/renew",
  revoke: "/v1/certificates/revoke",
  forget: "/v1/certificates/forget",
} as const;

export interface RenewRequest {
  name: string;
  force?: boolean;
}

export interface RevokeRequest {
  name: string;
  reason: string;
}

export interface ForgetRequest {
  name: string;
}

export interface ListAnswer {
  certificates: CertificateRecord[];
}

/** After renew, revoke or forget: the set as it is now (absent after forget). */
export interface ActionAnswer {
  message: string;
  certificate?: CertificateRecord;
}

export interface ErrorAnswer {
  error: string;
}

/** Default socket: in the storage folder, which only the serving user may enter (0700). */
export const DEFAULT_SOCKET_NAME = "admin.sock";
/** With admin.listen: the bearer token, in the storage folder (0600), new at every start. */
export const TOKEN_FILE = "admin.token";

/** Where the admin endpoint is: a Unix socket, or loopback TCP with a token kept in storage. */
export type AdminEndpoint = { kind: "socket"; path: string } | { kind: "tcp"; host: string; port: number; tokenFile: string };

/** The config's admin endpoint; undefined when there is none to be had (no socket and no storage folder). */
export function adminEndpointOf(config: Config, baseDir: string, storageDir: string | undefined): AdminEndpoint | undefined {
  if (config.admin?.listen) {
    const address = parseLoopbackListen(config.admin.listen, false);
    if (typeof address === "string") throw new Error(`admin.listen: ${address}`);
    if (!storageDir) return undefined;
    return { kind: "tcp", ...address, tokenFile: path.join(storageDir, TOKEN_FILE) };
  }
  if (config.admin?.socket) return { kind: "socket", path: path.resolve(baseDir, config.admin.socket) };
  return storageDir ? { kind: "socket", path: path.join(storageDir, DEFAULT_SOCKET_NAME) } : undefined;
}

export function describeEndpoint(e: AdminEndpoint): string {
  return e.kind === "socket" ? e.path : `http://${e.host.includes(":") ? `[${e.host}]` : e.host}:${e.port}`;
}
