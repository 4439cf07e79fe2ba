// What the ACME issuer needs from a DNS-01 provider, and the one safe way to use it:
// publish the TXT record, wait until the zone's authoritative servers show it, let the CA
// validate, and always remove it again.

/**
 * Publishes and removes `_acme-challenge` TXT records in some DNS zone.
 * `fqdn` is the record's full name (e.g. `_acme-challenge.example.com`, see
 * {@link challengeRecordName}); `value` is the base64url digest of the key authorization.
 * Several values may exist at one name at once (`example.com` and `*.example.com` share it):
 * `present` adds one value and `cleanup` removes only that value.
 */
export interface Dns01Provider {
  /** For logs: what this provider talks to, e.g. `RFC 2136 update to 192.0.2.1:53`. */
  readonly description: string;
  present(fqdn: string, value: string): Promise<void>;
  cleanup(fqdn: string, value: string): Promise<void>;
  /** Resolves once every authoritative server of the zone answers with the value; rejects at `deadline`. */
  waitVisible(fqdn: string, value: string, deadline: Date): Promise<void>;
}

export type Dns01ErrorKind =
  | "bad-settings"
  | "bad-tsig-key"
  | "unknown-zone"
  | "unreachable"
  | "update-failed"
  | "hook-failed"
  | "hook-timeout"
  | "not-visible";

/** A DNS-01 failure whose message says what went wrong, where, and how to fix it. */
export class Dns01Error extends Error {
  constructor(readonly kind: Dns01ErrorKind, message: string) {
    super(message);
    this.name = "Dns01Error";
  }
}

/** The name whose TXT record proves control of `identifier` (a wildcard shares its base name's). */
export function challengeRecordName(identifier: string): string {
  return `_acme-challenge.${identifier.replace(/^\*\./, "").replace(/\.$/, "")}`;
}

/**
 * Publishes the record, waits until it is visible, runs `validate` (tell the CA, wait for its
 * verdict), and removes the record whatever happened. A failed removal never hides the
 * outcome: it is reported to `onCleanupError` instead.
 */
export async function withTxtRecord<T>(
  provider: Dns01Provider,
  record: { fqdn: string; value: string; visibleBy: Date },
  validate: () => Promise<T>,
  onCleanupError: (error: unknown) => void,
): Promise<T> {
  try {
    await provider.present(record.fqdn, record.value);
    await provider.waitVisible(record.fqdn, record.value, record.visibleBy);
    return await validate();
  } finally {
    await provider.cleanup(record.fqdn, record.value).catch(onCleanupError);
  }
}
