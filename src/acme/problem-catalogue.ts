// Every ACME problem type (RFC 8555 §6.7, RFC 9773 ARI, RFC 8739 STAR, ACME profiles) in plain
// words — what it means and what to do — combined with what padlock saw itself, so a failed
// order is explained in one message instead of a CA's terse detail or a stack trace.

export const ACME_ERROR_PREFIX = "urn:ietf:params:acme:error:";

/** An RFC 7807 problem document as an ACME CA sends it. */
export interface ProblemDocument {
  type?: string;
  detail?: string;
  status?: number;
  instance?: string;
  identifier?: { type: string; value: string };
  subproblems?: ProblemDocument[];
}

/** Something padlock observed itself around the failure. */
export type Observation =
  /** An HTTP-01 challenge URL fetched by the CA (from its problem detail) or by padlock. */
  | {
      kind: "challenge-fetch";
      by: "ca" | "padlock";
      url: string;
      /** The address the request went to. */
      address?: string;
      status?: number;
      /** The Server header of the answer; "" when there was none. */
      server?: string;
      location?: string;
      /** A network failure instead of an answer, in words ("connection refused"). */
      error?: string;
    }
  /** Who holds the challenge port at an address: "padlock" or a program's description. */
  | { kind: "port-holder"; port: number; address?: string; holder: string }
  | { kind: "dns-mismatch"; name: string; resolvesTo: string[]; localAddresses: string[] }
  | { kind: "note"; text: string };

export interface ExplainedProblem {
  /** The full type URN as sent (or "about:blank"). */
  type: string;
  /** The part after urn:ietf:params:acme:error:, e.g. "unauthorized". */
  name: string;
  /** The name the problem is about, from the problem's identifier. */
  identifier?: string;
  cause: string;
  fix: string;
  /** The CA's own words. */
  detail?: string;
  /** Observations in words: the CA's view (parsed from the detail) first, then padlock's. */
  seen: string[];
  subproblems: ExplainedProblem[];
  /** Everything above as one message for the log, an alert or a terminal. */
  message: string;
}

interface Explanation {
  cause: string;
  fix: string;
}

const CHALLENGE_PATH_FIX =
  "make sure http://NAME/.well-known/acme-challenge/ reaches padlock on port 80: DNS pointing at this machine, port 80 open and forwarded here, and no other web server or proxy answering it (`padlock doctor` checks each)";

export const PROBLEM_TYPES: Record<string, Explanation> = {
  accountDoesNotExist: {
    cause: "the CA has no account for padlock's account key (it was deactivated, or the key belongs to another CA or environment such as staging)",
    fix: "let padlock register a new account: remove the stored account for this CA from the storage folder and start again",
  },
  agreementRequired: {
    cause: "the CA requires accepting its terms of service (a pre-RFC 8555 error some CAs still send)",
    fix: "read the CA's terms, then set accept_terms: true in the config",
  },
  alreadyReplaced: {
    cause: "the certificate named in the renewal order's `replaces` was already replaced by another order (ARI, RFC 9773)",
    fix: "nothing to do if another padlock sharing this storage renewed it; otherwise padlock orders again without `replaces`",
  },
  alreadyRevoked: {
    cause: "the certificate was already revoked",
    fix: "nothing to revoke; padlock orders a new certificate if this one is still in use",
  },
  autoRenewalCanceled: { cause: "the STAR auto-renewal order was cancelled (RFC 8739)", fix: "place a new order if the certificate is still needed" },
  autoRenewalCancellationInvalid: { cause: "the STAR order cannot be cancelled in its current state (RFC 8739)", fix: "nothing to do; it is already finished or cancelled" },
  autoRenewalExpired: { cause: "the STAR auto-renewal order has reached its end date (RFC 8739)", fix: "place a new order if the certificate is still needed" },
  autoRenewalRevocationNotSupported: { cause: "the CA cannot revoke short-term STAR certificates (RFC 8739)", fix: "cancel the STAR order instead of revoking" },
  badCSR: {
    cause: "the CA rejected the certificate signing request (an unsupported key type or size, a key the CA has seen compromised, or names that do not match the order)",
    fix: "use key_type: ecdsa-p256 (the default) or rsa2048+; if the key may be compromised, delete it from storage so padlock makes a new one",
  },
  badNonce: {
    cause: "the CA rejected the request's anti-replay nonce (normal now and then: nonces expire)",
    fix: "none: padlock retries with a fresh nonce; if this persists, check for a proxy replaying or caching requests to the CA",
  },
  badPublicKey: {
    cause: "the CA does not accept the account or certificate key (algorithm or size)",
    fix: "use key_type: ecdsa-p256 (the default), ecdsa-p384 or rsa2048/3072/4096",
  },
  badRevocationReason: {
    cause: "the CA does not accept that revocation reason",
    fix: "use one of: unspecified, keyCompromise, superseded, cessationOfOperation (Let's Encrypt accepts no others)",
  },
  badSignatureAlgorithm: {
    cause: "the CA does not accept the signature algorithm of padlock's request",
    fix: "use an ECDSA P-256 or RSA account key; report this to padlock's maintainers with the CA's name",
  },
  caa: {
    cause: "a CAA record in DNS forbids this CA from issuing for the name",
    fix: 'add a CAA record allowing the CA (Let\'s Encrypt: CAA 0 issue "letsencrypt.org") at the name or its parent, or remove the record that forbids it',
  },
  compound: {
    cause: "several things went wrong; each is listed below",
    fix: "fix each listed problem",
  },
  connection: {
    cause: "the CA could not connect to this server to validate the challenge (timeout, refused, or reset)",
    fix: CHALLENGE_PATH_FIX,
  },
  dns: {
    cause: "the CA could not resolve the name (no A/AAAA record, SERVFAIL, or a broken DNSSEC signature)",
    fix: "make sure the name has A/AAAA records pointing at this machine and its DNS servers answer (`dig NAME A` from another network)",
  },
  externalAccountRequired: {
    cause: "the CA requires External Account Binding: the account must be linked to an account you have at the CA",
    fix: "add eab: { kid: …, hmac_key: … } from the CA's dashboard (ZeroSSL: Developer section) to the config",
  },
  incorrectResponse: {
    cause: "the CA reached this server but the answer to the challenge was wrong (wrong status, wrong content, or another server answered)",
    fix: CHALLENGE_PATH_FIX,
  },
  invalidContact: {
    cause: "the CA rejected the contact email (malformed, or a domain that cannot receive mail)",
    fix: "set email: to a working address, or remove it (it is optional)",
  },
  invalidProfile: {
    cause: "the CA does not offer the certificate profile this site asked for",
    fix: "use a profile the CA lists in its directory (`padlock doctor` shows them), or remove profile:",
  },
  malformed: {
    cause: "the CA could not parse padlock's request",
    fix: "report this to padlock's maintainers with the CA's detail; meanwhile padlock retries later",
  },
  orderNotReady: {
    cause: "the order was finalized before all its names were validated",
    fix: "none: padlock waits for validation and retries",
  },
  rateLimited: {
    cause: "the CA's rate limit was reached (for example too many certificates for the same names, or too many failed validations)",
    fix: "wait until the time the CA gives (padlock retries after it); fix any failing validation first, and rehearse against staging (letsencrypt-staging)",
  },
  rejectedIdentifier: {
    cause: "the CA will not issue for this name (its policy forbids it, e.g. a blocked or high-risk name)",
    fix: "remove the name from the site, or use another CA",
  },
  serverInternal: {
    cause: "the CA had an internal error",
    fix: "none on this side: padlock retries with backoff; check the CA's status page if it lasts",
  },
  tls: {
    cause: "the CA could not complete a TLS handshake while validating (TLS-ALPN-01, or an HTTP-01 redirect to HTTPS)",
    fix: "make sure port 443 reaches padlock and nothing in front terminates TLS for this name; remove HTTPS redirects on /.well-known/acme-challenge/",
  },
  unauthorized: {
    cause: "the CA could not confirm that this server controls the name: its challenge request did not get padlock's answer",
    fix: CHALLENGE_PATH_FIX,
  },
  unsupportedContact: {
    cause: "the CA does not support that contact URL scheme",
    fix: "use a plain email address in email:",
  },
  unsupportedIdentifier: {
    cause: "the CA does not issue for this kind of identifier (an IP address, or a wildcard with this challenge)",
    fix: "use DNS names, or a CA and profile that support IP addresses; wildcards need DNS-01",
  },
  userActionRequired: {
    cause: "the CA needs you to do something on its website first (typically accept new terms of service)",
    fix: "open the URL the CA gives (the problem's instance), do what it asks, then restart padlock",
  },
};

const UNKNOWN: Explanation = {
  cause: "the CA reported a problem padlock does not know",
  fix: "read the CA's detail below; padlock retries with backoff",
};

export function describeObservation(o: Observation): string {
  switch (o.kind) {
    case "challenge-fetch": {
      const who = o.by === "ca" ? "the CA" : "padlock";
      const from = o.address ? ` from ${o.address}` : "";
      if (o.error) return `${who} fetched ${o.url}${from} and got no answer: ${o.error}`;
      let answer = o.status !== undefined ? `${o.status}` : "an answer";
      if (o.location) answer += ` redirecting to ${o.location}`;
      if (o.server) answer += ` from a server that says \`Server: ${o.server}\``;
      else if (o.server === "") answer += " with no Server header";
      return `${who} fetched ${o.url}${from} and got ${answer}`;
    }
    case "port-holder":
      return o.holder === "padlock"
        ? `port ${o.port}${o.address ? ` at ${o.address}` : ""} is answered by padlock`
        : `port ${o.port}${o.address ? ` at that address` : ""} is not padlock (it is ${o.holder})`;
    case "dns-mismatch":
      return `the name ${o.name} resolves to ${o.resolvesTo.join(", ") || "nothing"} while this machine has ${o.localAddresses.join(", ")}`;
    case "note":
      return o.text;
  }
}

// HTTP-01 failures as CAs word them. Boulder (Let's Encrypt):
// "203.0.113.7: Invalid response from http://blog.example/.well-known/acme-challenge/abc: 404"
// Pebble: "Non-200 status code from HTTP: http://blog.test:5002/.well-known/acme-challenge/abc returned 404"
const BOULDER_FETCH = /(?:^|\s)(?:(\S+): )?Invalid response from (https?:\/\/\S+?)(?:\s*\[([^\]]+)\])?: (\d{3})\b/;
const PEBBLE_FETCH = /Non-200 status code from HTTP: (https?:\/\/\S+) returned (\d{3})/;
// A fetch that got no answer. Boulder: "203.0.113.7: Fetching http://blog.example/.well-known/acme-challenge/abc: Connection refused";
// Pebble (Go's client): `Get "http://blog.test:5002/.well-known/acme-challenge/abc": dial tcp 127.0.0.1:5002: connect: connection refused`
const FETCH_FAILED = /(?:^|\s)(?:(\S+): )?Fetching (https?:\/\/\S+?): (.+)$/;
const GO_FETCH_FAILED = /Get "(https?:\/\/[^"]+)": (?:dial tcp (\[[^\]]+\]|[^\s:]+):\d+: )?(.+)$/;
// Both: "The key authorization file from the server did not match this challenge …"
const WRONG_BODY = /key authorization file from the server did not match/i;

/** The CA's own fetch, read from its detail, so the message can say what the CA saw. */
export function observationFromDetail(detail: string | undefined): Observation | undefined {
  if (!detail) return undefined;
  const boulder = BOULDER_FETCH.exec(detail);
  if (boulder) {
    const address = boulder[3] ?? (boulder[1] && /^[0-9a-f.:]+$/i.test(boulder[1]) ? boulder[1] : undefined);
    return { kind: "challenge-fetch", by: "ca", url: boulder[2]!, address, status: Number(boulder[4]) };
  }
  const pebble = PEBBLE_FETCH.exec(detail);
  if (pebble) return { kind: "challenge-fetch", by: "ca", url: pebble[1]!, status: Number(pebble[2]) };
  const failed = FETCH_FAILED.exec(detail);
  if (failed) {
    const address = failed[1] && /^[0-9a-f.:]+$/i.test(failed[1]) ? failed[1] : undefined;
    return { kind: "challenge-fetch", by: "ca", url: failed[2]!, address, error: failed[3]! };
  }
  const go = GO_FETCH_FAILED.exec(detail);
  if (go) return { kind: "challenge-fetch", by: "ca", url: go[1]!, address: go[2]?.replace(/^\[|\]$/g, ""), error: go[3]!.replace(/^connect: /, "") };
  if (WRONG_BODY.test(detail)) {
    return { kind: "note", text: "the CA got an answer for the challenge URL, but not the key authorization padlock published (another server or a catch-all page answered)" };
  }
  return undefined;
}

/** Where a CA fetched an HTTP-01 challenge: the URL, and the address it connected to when it said. */
export interface CaFetch {
  url: string;
  address?: string;
}

/** RFC 8555 §8.3: what the CA records about its HTTP-01 fetch. */
interface ValidationRecord {
  url?: string;
  addressUsed?: string;
}

/** Where the CA fetched a failed HTTP-01 challenge: its validation record, else the URL its problem detail names. */
export function caFetchOf(challenge: { validationRecord?: ValidationRecord[]; error?: ProblemDocument } | undefined): CaFetch | undefined {
  const record = challenge?.validationRecord?.find((r) => r.url);
  if (record?.url) return { url: record.url, address: record.addressUsed };
  const seen = observationFromDetail(challenge?.error?.detail);
  return seen?.kind === "challenge-fetch" ? { url: seen.url, address: seen.address } : undefined;
}

export function problemName(type: string | undefined): string {
  if (!type) return "about:blank";
  return type.startsWith(ACME_ERROR_PREFIX) ? type.slice(ACME_ERROR_PREFIX.length) : type;
}

/** A problem document (anything the CA sent) plus padlock's observations → one explanation. */
export function explainAcmeProblem(problem: ProblemDocument, observations: Observation[] = []): ExplainedProblem {
  const type = problem.type ?? "about:blank";
  const name = problemName(problem.type);
  const known = problem.type?.startsWith(ACME_ERROR_PREFIX) ? PROBLEM_TYPES[name] : undefined;
  const base = known ?? UNKNOWN;
  const identifier = problem.identifier?.value;
  const fix = identifier ? base.fix.replaceAll("NAME", identifier) : base.fix.replaceAll("http://NAME/", "http://<name>/").replaceAll("NAME", "the name");
  const fromDetail = observationFromDetail(problem.detail);
  const seen = [...(fromDetail ? [fromDetail] : []), ...observations].map(describeObservation);
  const subproblems = (problem.subproblems ?? []).map((p) => explainAcmeProblem(p));
  const explained = { type, name, identifier, cause: base.cause, fix, detail: problem.detail, seen, subproblems };
  return { ...explained, message: composeMessage(explained) };
}

function composeMessage(p: Omit<ExplainedProblem, "message">): string {
  const parts = [`${p.identifier ? `${p.identifier}: ` : ""}${capitalise(p.cause)} (ACME ${p.name}).`];
  if (p.detail) parts.push(`The CA said: "${p.detail}".`);
  if (p.seen.length) parts.push(`${capitalise(p.seen.join("; "))}.`);
  for (const sub of p.subproblems) parts.push(`[${sub.message}]`);
  parts.push(`Fix: ${p.fix}.`);
  return parts.join(" ");
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
