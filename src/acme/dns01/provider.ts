// What the ACME issuer needs from a DNS-01 provider, and the one safe way to use it:
// publish the TXT record, wait until the zone's authoritative servers show it, let the CA
// validate, and always remove it again.
import { PadlockError } from "../../errors.js";

/**
 * Publishes and removes `_acme-challenge` TXT records in some DNS zone.
 * `fqdn` is the record's full name (e.g. `_acme-challenge.example.com`, see
 * `challengeRecordName` in config/dns-settings.ts); `value` is the base64url digest of the key authorization.
 * Several values may exist at one name at once (`example.com` and `*.example.com` share it):
 * `present` adds one value and `cleanup` removes only that value.
 *
 * `stopping` is aborted when padlock shuts down: `present` and `waitVisible` give up at once,
 * and `cleanup` still runs but within a few seconds (systemd kills a service 90 s after SIGTERM).
 */
export interface Dns01Provider {
  /** For logs: what this provider talks to, e.g. `RFC 2136 update to 192.0.2.1:53`. */
  readonly description: string;
  present(fqdn: string, value: string, stopping?: AbortSignal): Promise<void>;
  cleanup(fqdn: string, value: string, stopping?: AbortSignal): Promise<void>;
  /** Resolves once every authoritative server of the zone answers with the value; rejects at `deadline`. */
  waitVisible(fqdn: string, value: string, deadline: Date, stopping?: AbortSignal): Promise<void>;
}

export type Dns01ErrorKind =
  | "bad-settings"
  | "bad-tsig-key"
  | "key-not-permitted"
  | "unknown-zone"
  | "unreachable"
  | "update-failed"
  | "hook-failed"
  | "hook-timeout"
  | "not-visible"
  | "stopped";

/** A DNS-01 failure whose message says what went wrong, where, and how to fix it. */
export class Dns01Error extends PadlockError {
  constructor(readonly kind: Dns01ErrorKind, message: string) {
    super("DNS01_FAILED", message);
    this.name = "Dns01Error";
  }
}

/** How long a provider's clean-up may take once padlock is stopping. */
export const STOPPING_CLEANUP_MS = 5000;


export interface TxtRecordOptions {
  /** Publishing failed: told at once, before the (possibly slow) removal runs. */
  onPublishError?: (error: unknown) => void;
  /** A failed removal never hides the outcome: it is told here instead. */
  onCleanupError: (error: unknown) => void;
  /** Aborted when padlock stops: waiting ends, the record is removed, the CA's verdict is not awaited. */
  stopping?: AbortSignal;
}

/**
 * Publishes the record, waits until it is visible, runs `validate` (tell the CA, wait for its
 * verdict), and removes the record whatever happened.
 */
export async function withTxtRecord<T>(
  provider: Dns01Provider,
  record: { fqdn: string; value: string; visibleBy: Date },
  validate: () => Promise<T>,
  options: TxtRecordOptions,
): Promise<T> {
  const { fqdn, value } = record;
  const { stopping } = options;
  if (stopping?.aborted) throw new Dns01Error("stopped", `padlock is stopping: the TXT record ${fqdn} was not published`);
  try {
    try {
      await provider.present(fqdn, value, stopping);
    } catch (err) {
      options.onPublishError?.(err);
      throw err;
    }
    await provider.waitVisible(fqdn, value, record.visibleBy, stopping);
    return await untilStopped(validate(), fqdn, stopping);
  } finally {
    await provider.cleanup(fqdn, value, stopping).catch(options.onCleanupError);
  }
}

/** `work`'s outcome, or a "stopped" error as soon as `stopping` is aborted (`work` then runs on unobserved). */
function untilStopped<T>(work: Promise<T>, fqdn: string, stopping: AbortSignal | undefined): Promise<T> {
  if (!stopping) return work;
  work.catch(() => undefined);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new Dns01Error("stopped", `padlock is stopping: stopped waiting for the CA to validate ${fqdn}`));
    if (stopping.aborted) return onAbort();
    stopping.addEventListener("abort", onAbort, { once: true });
    work.then(resolve, reject).finally(() => stopping.removeEventListener("abort", onAbort));
  });
}
