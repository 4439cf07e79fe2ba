// The one TLS policy: every secure context padlock makes (the listener's own, each certificate's,
// the TLS-ALPN-01 challenge's) is built here, so none can fall back to Node's defaults.
//
// Mozilla "intermediate" (v5.7) without the DHE suites: TLS 1.2 with ECDHE and AES-GCM or
// ChaCha20 only, and TLS 1.3; key exchange on X25519, P-256 or P-384; the client picks the cipher
// (every suite offered is strong, and the client knows whether it has AES hardware).
import tls from "node:tls";

export const MIN_TLS_VERSION = "TLSv1.2" as const;

const TLS13_SUITES = ["TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"];
const TLS12_SUITES = [
  "ECDHE-ECDSA-AES128-GCM-SHA256",
  "ECDHE-RSA-AES128-GCM-SHA256",
  "ECDHE-ECDSA-AES256-GCM-SHA384",
  "ECDHE-RSA-AES256-GCM-SHA384",
  "ECDHE-ECDSA-CHACHA20-POLY1305",
  "ECDHE-RSA-CHACHA20-POLY1305",
];

export const TLS_CIPHERS = [...TLS13_SUITES, ...TLS12_SUITES].join(":");
export const TLS_GROUPS = "X25519:P-256:P-384";

/**
 * How long a resumed session stays valid, in seconds. Session tickets are encrypted with keys
 * that rotate daily (session-ticket-keys.ts); an hour lets returning visitors skip the full
 * handshake without keeping a ticket useful for long.
 */
export const SESSION_LIFETIME_S = 3600;

/** What every context shares; Node fills in the rest from these, never from its own defaults. */
const POLICY = {
  minVersion: MIN_TLS_VERSION,
  ciphers: TLS_CIPHERS,
  ecdhCurve: TLS_GROUPS,
  // Node's server defaults this to true when left out (setSecureContext does too).
  honorCipherOrder: false,
  sessionTimeout: SESSION_LIFETIME_S,
} as const satisfies tls.SecureContextOptions;

export interface KeyAndChain {
  key: string;
  cert: string;
}

/**
 * Options for a secure context under the policy: with a key and chain when given, and the
 * session ticket keys when this is the listener's own context (tickets are encrypted with the
 * keys of the context the connection started on, whatever certificate SNI picks later).
 */
export function secureContextOptions(pair?: KeyAndChain, ticketKeys?: Buffer): tls.SecureContextOptions {
  return { ...POLICY, ...pair, ...(ticketKeys ? { ticketKeys } : {}) };
}

/** A context for one certificate (picked by SNI, or a TLS-ALPN-01 challenge's). */
export function createPolicyContext(pair: KeyAndChain): tls.SecureContext {
  return tls.createSecureContext(secureContextOptions(pair));
}
