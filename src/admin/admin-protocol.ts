// The admin endpoint's requests and answers: JSON over HTTP on a Unix socket. Shared by the
// server in padlock and the `padlock certs` client so the two cannot drift apart.
import type { CertificateRecord } from "./certificate-records.js";

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
