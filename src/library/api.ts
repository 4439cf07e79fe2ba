// The library's public types: what src/index.ts promises, and all the published .d.ts files
// describe. Nothing here imports padlock's insides, so the types stay this small.
import type http from "node:http";
import type tls from "node:tls";
import type { PadlockErrorCode } from "../errors.js";

/** Any logger with info/warn/error: pino is used as it is, others get (message, fields). */
export interface LoggerLike {
  info(...args: unknown[]): void;
  warn(...args: unknown[]): void;
  error(...args: unknown[]): void;
  debug?(...args: unknown[]): void;
}

export type KeyType = "ecdsa-p256" | "ecdsa-p384" | "rsa2048" | "rsa3072" | "rsa4096";

export interface ManageCertificatesOptions {
  /** "letsencrypt", "letsencrypt-staging", "zerossl", "buypass"…, or the URL of an ACME directory. */
  ca: string;
  /** Contact address for the CA account (expiry warnings). */
  email?: string;
  /** You accept the CA's terms of service (required by most CAs). */
  acceptTerms: boolean;
  /** Folder for keys, certificates and the account (created 0700 when missing). Instances sharing it order once. */
  storage: string;
  /** The names to get certificates for, or a function deciding per name the first time a client asks for it (SNI). */
  names: string[] | ((name: string) => boolean | Promise<boolean>);
  /** Anything with info/warn/error (pino, console…). Default: warnings and errors on the console. */
  logger?: LoggerLike;
  /** PEM of an extra root to trust for the CA's API (a private CA, a test CA). */
  caRoot?: string;
  /** External account binding, for CAs that require it (ZeroSSL, Google). */
  eab?: { kid: string; hmacKey: string };
  /** Challenges to try, in order (default: http-01, then tls-alpn-01). */
  challenges?: ("http-01" | "tls-alpn-01")[];
  /** Default: ecdsa-p256. */
  keyType?: KeyType;
}

export interface CertificateInfo {
  names: string[];
  serial: string;
  notBefore: Date;
  notAfter: Date;
}

export interface CertificateFailure {
  names: string[];
  /** Stable, e.g. "VALIDATION_FAILED", "CA_RATE_LIMITED"; undefined for an unexpected error. */
  code: PadlockErrorCode | undefined;
  message: string;
  error: unknown;
  failures: number;
  nextRetry: Date;
}

export interface CertificateStatus {
  names: string[];
  serial?: string;
  notAfter?: Date;
  nextRenewal?: Date;
  failures: number;
  lastError?: string;
}

export interface ManagedCertificates {
  /** For https.createServer / http2.createSecureServer / tls.createServer: SNICallback. */
  sniCallback(servername: string, callback: (err: Error | null, context?: tls.SecureContext) => void): void;
  /** A request handler for port 80: answers ACME HTTP-01 challenges, passes everything else to `app` (default: redirect to https). */
  http01(app?: (req: http.IncomingMessage, res: http.ServerResponse) => void): (req: http.IncomingMessage, res: http.ServerResponse) => void;
  /** Answers TLS-ALPN-01 challenges on this TLS server (port 443), before its usual handling. */
  attachTlsAlpn(server: tls.Server): void;
  on(event: "installed" | "renewed", listener: (certificate: CertificateInfo) => void): this;
  on(event: "failed", listener: (failure: CertificateFailure) => void): this;
  off(event: "installed" | "renewed" | "failed", listener: (...args: never[]) => void): this;
  /** Renews now (`force`: even when not due); resolves when the new certificate is installed. */
  renew(name: string, options?: { force?: boolean }): Promise<void>;
  /** Revokes the certificate (reason: an RFC 5280 name, default "unspecified") and orders its replacement. */
  revoke(name: string, reason?: string): Promise<void>;
  status(): CertificateStatus[];
  /** Stops renewing; an order in flight is left resumable. */
  close(): Promise<void>;
}

export interface PadlockServerOptions {
  /** A padlock.yml, or the same as an object (relative paths in it are resolved against `baseDir`). */
  config: string | Record<string, unknown>;
  /** Default: the config file's folder, or the current folder for an object. */
  baseDir?: string;
  /** Default 80 and 443; 0 picks free ports. */
  httpPort?: number;
  httpsPort?: number;
  /** Address to listen on (default: the config's `listen`, else all). */
  listen?: string;
  logger?: LoggerLike;
}

export interface PadlockServer {
  readonly httpPort: number | undefined;
  readonly httpsPort: number | undefined;
  /** Applies a changed config file (or object) as SIGHUP does for `padlock serve`. */
  reload(config?: string | Record<string, unknown>): Promise<void>;
  /** Finishes requests in flight, then stops listening and renewing. */
  close(): Promise<void>;
}
