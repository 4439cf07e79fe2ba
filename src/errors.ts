// Every error padlock reports for a reason of its own carries a stable `code`: a library user
// branches on it, the command line prints it, and docs/errors.md says what each means and what to
// do. The message says the rest in words: what, where, and how to fix it.
export type PadlockErrorCode =
  /** The config does not pass its checks (every problem is in the message, with file:line). */
  | "CONFIG_INVALID"
  /** The storage cannot be used as configured (not a folder, not owned by padlock's user…). */
  | "STORAGE_UNUSABLE"
  /** A write to storage failed (read-only, full, permission); the message names the file and the fix. */
  | "STORAGE_WRITE_FAILED"
  /** The CA as configured cannot be used, and retrying will not help: not ACME, terms not accepted, EAB missing, profile not offered, ca_root unreadable. */
  | "CA_SETUP"
  /** The CA cannot be reached (network, TLS trust); retried with backoff. */
  | "CA_UNREACHABLE"
  /** The CA refused a request; `type` on the error is the ACME problem type. */
  | "CA_PROBLEM"
  /** The CA rate limits this account or these names; padlock waits as long as it asks. */
  | "CA_RATE_LIMITED"
  /** The CA checked a challenge and it failed (the message says what the CA and padlock saw). */
  | "VALIDATION_FAILED"
  /** None of the challenges the site allows can be answered here, or the CA offers none of them. */
  | "CHALLENGE_UNAVAILABLE"
  /** A DNS-01 provider could not publish or remove its TXT record, or it never became visible. */
  | "DNS01_FAILED"
  /** padlock's own order budget (the CA's published limits) is spent for these names. */
  | "ORDER_BUDGET_SPENT"
  /** padlock's internal CA cannot keep its files or issue. */
  | "INTERNAL_CA"
  /** A certificate a site brings (tls.certificate, tls.key) cannot be served: a file missing or unreadable, not PEM, or a key that is not the certificate's. */
  | "CERTIFICATE_FILES"
  /** Switching to the configured user after binding the ports failed. */
  | "PRIVILEGES"
  /** No certificate is managed for this name. */
  | "NAME_NOT_MANAGED"
  /** There is no certificate for these names yet (nothing to revoke). */
  | "NO_CERTIFICATE"
  /** Certificate management was stopped (close()) while the operation waited. */
  | "STOPPED"
  /** A library call got an argument it cannot use (the message names it and what is accepted). */
  | "INVALID_ARGUMENT";

export class PadlockError extends Error {
  override name = "PadlockError";

  constructor(
    readonly code: PadlockErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function isPadlockError(err: unknown): err is PadlockError {
  return err instanceof PadlockError;
}

/**
 * The stable code of any error padlock throws: its own, or for storage errors (whose `code` is
 * the system's, EROFS and the like) the one that says what failed. Undefined for anything else.
 */
export function errorCode(err: unknown): PadlockErrorCode | undefined {
  if (err instanceof PadlockError) return err.code;
  const name = (err as { name?: unknown } | null)?.name;
  if (name === "StorageWriteError") return "STORAGE_WRITE_FAILED";
  if (name === "StorageError") return "STORAGE_UNUSABLE";
  return undefined;
}
