// ACME problem documents (RFC 8555 §6.7, RFC 7807) as errors the issuer throws, worded by the
// problem catalogue. Retry-After and rate limits travel with the error so the
// scheduler can honour them.
import { PadlockError } from "../errors.js";
import { explainAcmeProblem, problemName, type Observation, type ProblemDocument } from "./problem-catalogue.js";

export type { ProblemDocument };

/** An error answer from the CA, or a failed validation reported by it. */
export class AcmeProblem extends PadlockError {
  override name = "AcmeProblem";
  readonly type: string;
  readonly detail: string;
  readonly status?: number;
  readonly identifier?: string;
  /** When the CA said to try again (Retry-After), if it did. */
  readonly retryAfter?: Date;

  constructor(doc: ProblemDocument, context: { status?: number; retryAfter?: Date; what?: string; observations?: Observation[] } = {}) {
    const type = doc.type ?? "about:blank";
    const detail = doc.detail ?? "(no detail given)";
    const kind = problemName(type);
    const code = kind === "rateLimited" || (context.status ?? doc.status) === 429 ? "CA_RATE_LIMITED" : VALIDATION_PROBLEMS.has(kind) ? "VALIDATION_FAILED" : "CA_PROBLEM";
    super(code, `${context.what ? context.what + ": " : ""}${describeProblem(doc, context.observations)}`);
    this.type = type;
    this.detail = detail;
    this.status = context.status ?? doc.status;
    this.identifier = doc.identifier?.value;
    this.retryAfter = context.retryAfter;
  }

  /** The short type, e.g. "rateLimited". */
  get kind(): string {
    return problemName(this.type);
  }

  get rateLimited(): boolean {
    return this.kind === "rateLimited" || this.status === 429;
  }
}

/** Problem types that mean the CA checked a challenge and it did not pass. */
const VALIDATION_PROBLEMS = new Set(["connection", "dns", "incorrectResponse", "tls", "unauthorized", "caa"]);

/** The problem in plain words: cause, the CA's detail, what padlock saw, and the fix. */
function describeProblem(doc: ProblemDocument, observations: Observation[] = []): string {
  return explainAcmeProblem(doc, observations).message;
}

/** Retry-After is either seconds or an HTTP date. */
export function parseRetryAfter(value: string | undefined, now: number): Date | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return new Date(now + Number(value.trim()) * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : new Date(date);
}

/** The CA could not be reached at all (network, TLS trust, timeout). */
export class CaUnreachable extends PadlockError {
  override name = "CaUnreachable";

  constructor(message: string) {
    super("CA_UNREACHABLE", message);
  }
}
