// ACME problem documents (RFC 8555 §6.7, RFC 7807) turned into errors that say, in plain words,
// what went wrong and what to do. Retry-After and rate limits travel with the error so the
// scheduler can honour them.
const PREFIX = "urn:ietf:params:acme:error:";

export interface ProblemDocument {
  type?: string;
  detail?: string;
  status?: number;
  identifier?: { type: string; value: string };
  subproblems?: ProblemDocument[];
}

const ADVICE: Record<string, string> = {
  accountDoesNotExist: "the CA does not know this account; padlock will register a new one",
  alreadyRevoked: "the certificate was already revoked",
  badCSR: "the CA rejected the certificate request (CSR); check the key type and names",
  badNonce: "the CA rejected a one-time number (nonce); this is retried automatically",
  badPublicKey: "the CA does not accept this key type; try key_type: ecdsa-p256 or rsa2048",
  badRevocationReason: "the CA does not accept this revocation reason",
  badSignatureAlgorithm: "the CA does not accept the signature algorithm of the account key",
  caa: "a DNS CAA record of the name forbids this CA; add the CA to the CAA record or remove it",
  compound: "several problems, listed below",
  connection: "the CA could not connect to this server to check the challenge; check that the name points to this machine and that the port is open to the internet",
  dns: "the CA could not look up the name in DNS; check the name's A/AAAA (and CAA) records",
  externalAccountRequired: "this CA requires External Account Binding; add eab: { kid, hmac_key } from the CA's dashboard",
  incorrectResponse: "the CA reached a server that answered the challenge wrongly; make sure requests for the name reach padlock (not another web server or a CDN that changes the path)",
  invalidContact: "the CA rejected the contact email; fix email: in the config",
  malformed: "the CA rejected the request as malformed",
  orderNotReady: "the order was finalized before all names were validated",
  rateLimited: "the CA's rate limit was reached; padlock waits as the CA asks before trying again",
  rejectedIdentifier: "the CA will not issue for this name (its policy forbids it)",
  serverInternal: "the CA had an internal error; padlock retries later",
  tls: "the CA's TLS connection to this server failed during validation",
  unauthorized: "the CA decided this account may not get a certificate for the name (validation failed)",
  unsupportedContact: "the CA does not support this kind of contact; use a mailto: email",
  unsupportedIdentifier: "the CA cannot issue for this kind of identifier (IP address or wildcard?)",
  userActionRequired: "the CA needs you to do something first: open the URL in the CA's message (often new terms of service)",
  badRevocation: "the revocation request was refused",
};

/** An error answer from the CA, or a failed validation reported by it. */
export class AcmeProblem extends Error {
  override name = "AcmeProblem";
  readonly type: string;
  readonly detail: string;
  readonly status?: number;
  readonly identifier?: string;
  readonly subproblems: ProblemDocument[];
  /** When the CA said to try again (Retry-After), if it did. */
  readonly retryAfter?: Date;

  constructor(doc: ProblemDocument, context: { status?: number; retryAfter?: Date; what?: string } = {}) {
    const type = doc.type ?? "about:blank";
    const detail = doc.detail ?? "(no detail given)";
    super(`${context.what ? context.what + ": " : ""}${describeProblem(doc)}`);
    this.type = type;
    this.detail = detail;
    this.status = context.status ?? doc.status;
    this.identifier = doc.identifier?.value;
    this.subproblems = doc.subproblems ?? [];
    this.retryAfter = context.retryAfter;
  }

  /** The short type, e.g. "rateLimited". */
  get kind(): string {
    return this.type.startsWith(PREFIX) ? this.type.slice(PREFIX.length) : this.type;
  }

  get rateLimited(): boolean {
    return this.kind === "rateLimited" || this.status === 429;
  }
}

/** "CA said: <detail> (<type>) — <advice>" with subproblems per name. */
export function describeProblem(doc: ProblemDocument): string {
  const kind = (doc.type ?? "").replace(PREFIX, "");
  const advice = ADVICE[kind];
  const own = `the CA said: ${doc.detail ?? "(no detail)"} (${kind || "unknown problem"})${advice ? ` — ${advice}` : ""}`;
  const subs = (doc.subproblems ?? []).map((s) => `; for ${s.identifier?.value ?? "?"}: ${describeProblem(s)}`);
  return own + subs.join("");
}

/** Retry-After is either seconds or an HTTP date. */
export function parseRetryAfter(value: string | undefined, now: number): Date | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return new Date(now + Number(value.trim()) * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : new Date(date);
}

/** The CA could not be reached at all (network, TLS trust, timeout). */
export class CaUnreachable extends Error {
  override name = "CaUnreachable";
}
