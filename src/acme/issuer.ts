// One certificate order (RFC 8555 §7.4): new order → prove each name with a challenge → finalize
// with a CSR → download the chain. Polls fast and backs off, because a CA may validate in
// milliseconds (Pebble) or in seconds (Let's Encrypt); the CA's Retry-After wins when given.
import { generateKeyPairSync } from "node:crypto";
import { isIP } from "node:net";
import { crypto as acmeCrypto } from "./acme-client-parts.js";
import type { AcmeAccount } from "./account.js";
import { AcmeProblem, parseRetryAfter, type ProblemDocument } from "./problems.js";
import type { Observation } from "./problem-catalogue.js";

export type ChallengeType = "http-01" | "tls-alpn-01" | "dns-01";
export type KeyType = "ecdsa-p256" | "ecdsa-p384" | "rsa2048" | "rsa3072" | "rsa4096";

/** Publishes what a challenge needs (a token file, a TLS certificate, a TXT record) while the CA checks it. */
export interface ChallengeSolver {
  readonly type: ChallengeType;
  /** Publishes the proof for `identifier`, runs `validate` (the CA checks), and withdraws the proof whatever happened. */
  withProof<T>(identifier: string, token: string, keyAuthorization: string, validate: () => Promise<T>): Promise<T>;
}

export type IssueStep =
  | { step: "ordering"; replaces?: string; profile?: string }
  | { step: "validating"; name: string; challenge: ChallengeType }
  /** A challenge type failed; `next` is tried with a new order, or none is left. */
  | { step: "fallback"; name: string; failed: ChallengeType; reason: string; next?: ChallengeType }
  | { step: "already-valid"; name: string }
  | { step: "finalizing" };

export interface IssueRequest {
  names: string[];
  keyType?: KeyType;
  profile?: string;
  /** ARI id of the certificate this one replaces (RFC 9773 §5). */
  replaces?: string;
  /** Challenge types in order of preference; when one fails, the order is placed again without it. */
  challenges: readonly ChallengeType[];
  /** Solvers for this request only (a site's DNS-01 provider), before the issuer's own. */
  solvers?: ChallengeSolver[];
  onStep?: (s: IssueStep) => void;
}

export interface Issued {
  keyPem: string;
  chainPem: string;
  orderUrl: string;
}

interface Order {
  status: "pending" | "ready" | "processing" | "valid" | "invalid";
  authorizations: string[];
  finalize: string;
  certificate?: string;
  error?: ProblemDocument;
}

interface Challenge {
  type: string;
  url: string;
  token: string;
  status: string;
  error?: ProblemDocument;
}

interface Authorization {
  identifier: { type: string; value: string };
  status: string;
  challenges: Challenge[];
  wildcard?: boolean;
}

const POLL_FIRST_MS = 5;
const POLL_GROWTH = 1.6;
const POLL_MAX_MS = 2_000;
const POLL_DEADLINE_MS = 5 * 60_000;

export class Issuer {
  private readonly solvers = new Map<ChallengeType, ChallengeSolver>();

  constructor(
    private readonly account: AcmeAccount,
    solvers: ChallengeSolver[],
    /** What padlock itself sees at a name's HTTP-01 URL, added to a failed validation's message. */
    private readonly observeHttp01?: (name: string) => Promise<Observation[]>,
  ) {
    for (const s of solvers) this.solvers.set(s.type, s);
  }

  async issue(req: IssueRequest): Promise<Issued> {
    const step = req.onStep ?? (() => undefined);
    const solvers = new Map(this.solvers);
    for (const s of req.solvers ?? []) solvers.set(s.type, s);
    const wanted = req.challenges;
    let remaining = wanted.filter((t) => solvers.has(t));
    if (remaining.length === 0) {
      throw new Error(`cannot prove control of ${req.names.join(", ")}: tls.challenges allows ${wanted.join(", ")}, but padlock can only answer ${[...solvers.keys()].join(", ")} here`);
    }
    const keyPem = createPrivateKey(req.keyType ?? "ecdsa-p256");
    // The CSR is built while the CA validates; it does not depend on the order.
    const csrPromise = createCsr(req.names, keyPem);
    let firstFailure: ChallengeFailed | undefined;
    for (;;) {
      try {
        return await this.attempt(req, remaining, solvers, keyPem, csrPromise, step);
      } catch (err) {
        if (!(err instanceof ChallengeFailed)) throw err;
        firstFailure ??= err;
        // A failed challenge makes its authorization and the order invalid: the next challenge
        // type needs a new order.
        remaining = remaining.filter((t) => t !== err.challenge);
        const next = remaining[0];
        if (next || firstFailure !== err) step({ step: "fallback", name: err.identifier, failed: err.challenge, reason: err.message, next });
        // The preferred challenge's failure is the one reported: usually the root cause.
        if (!next) throw firstFailure.cause;
      }
    }
  }

  private async attempt(
    req: IssueRequest,
    preference: ChallengeType[],
    solvers: Map<ChallengeType, ChallengeSolver>,
    keyPem: string,
    csrPromise: Promise<string>,
    step: (s: IssueStep) => void,
  ): Promise<Issued> {
    step({ step: "ordering", replaces: req.replaces, profile: req.profile });
    const { order, orderUrl } = await this.newOrder(req);

    if (order.status === "pending") {
      // Every authorization runs to its end (and cleans up) before a failure is reported.
      const results = await Promise.allSettled(order.authorizations.map((url) => this.authorize(url, preference, solvers, step)));
      const failure = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
      if (failure) throw failure.reason;
    } else if (order.status === "invalid") {
      throw new AcmeProblem(order.error ?? { detail: "the order is invalid" }, { what: "the new order" });
    }

    step({ step: "finalizing" });
    const csr = await csrPromise;
    let finalized = (await this.account.post(order.finalize, { csr }, "finalizing the order")).data as Order;
    if (finalized.status !== "valid") finalized = await this.pollUntil(orderUrl, "the order", (o: Order) => o.status !== "processing" && o.status !== "ready");
    if (finalized.status !== "valid" || !finalized.certificate) {
      throw new AcmeProblem(finalized.error ?? { detail: `the order ended as "${finalized.status}"` }, { what: "finalizing the order" });
    }
    const chain = await this.account.post(finalized.certificate, null, "downloading the certificate");
    return { keyPem, chainPem: String(chain.data), orderUrl };
  }

  private async newOrder(req: IssueRequest): Promise<{ order: Order; orderUrl: string }> {
    const identifiers = req.names.map((value) => ({ type: isIP(value) ? "ip" : "dns", value }));
    const payload: Record<string, unknown> = { identifiers };
    if (req.profile) payload.profile = req.profile;
    if (req.replaces) payload.replaces = req.replaces;
    const newOrderUrl = this.account.directory.newOrder;
    let res;
    try {
      res = await this.account.post(newOrderUrl, payload, "placing the order");
    } catch (err) {
      // RFC 9773 §5: a CA may refuse `replaces` (already replaced, unknown); order without it.
      if (!(req.replaces && err instanceof AcmeProblem && !err.rateLimited)) throw err;
      delete payload.replaces;
      res = await this.account.post(newOrderUrl, payload, "placing the order");
    }
    const orderUrl = res.headers["location"];
    if (!orderUrl) throw new Error("the CA created an order but did not say where it is (no Location header)");
    return { order: res.data as Order, orderUrl };
  }

  private async authorize(url: string, preference: ChallengeType[], solvers: Map<ChallengeType, ChallengeSolver>, step: (s: IssueStep) => void): Promise<void> {
    const authz = (await this.account.post(url, null, "reading an authorization")).data as Authorization;
    const name = (authz.wildcard ? "*." : "") + authz.identifier.value;
    if (authz.status === "valid") {
      step({ step: "already-valid", name });
      return;
    }
    const type = preference.find((t) => authz.challenges.some((c) => c.type === t));
    const challenge = authz.challenges.find((c) => c.type === type);
    if (!type || !challenge) {
      const offered = authz.challenges.map((c) => c.type).join(", ");
      const hint = authz.wildcard ? "a wildcard is only issued through dns-01: add dns-01 (and tls.dns) to tls.challenges" : "change tls.challenges";
      throw new Error(`cannot prove ${name}: the CA offers ${offered || "no challenge"}, padlock may use ${preference.join(", ")}; ${hint}`);
    }
    step({ step: "validating", name, challenge: type });
    // Errors talking to the CA are not the challenge's fault: no other challenge type would help.
    let caError: unknown;
    let verdict: Authorization;
    try {
      verdict = await solvers.get(type)!.withProof(authz.identifier.value, challenge.token, this.account.keyAuthorization(challenge.token), async () => {
        try {
          await this.account.post(challenge.url, {}, `answering the ${type} challenge for ${name}`);
          return await this.pollUntil(url, `the authorization of ${name}`, (a: Authorization) => a.status !== "pending");
        } catch (err) {
          caError = err;
          throw err;
        }
      });
    } catch (err) {
      if (err === caError) throw err;
      throw new ChallengeFailed(name, type, err);
    }
    if (verdict.status !== "valid") {
      const failed = verdict.challenges.find((c) => c.type === type);
      const observations = type === "http-01" && this.observeHttp01 ? await this.observeHttp01(name).catch(() => []) : [];
      const problem = failed?.error ?? { detail: `the authorization ended as "${verdict.status}"` };
      throw new ChallengeFailed(name, type, new AcmeProblem(problem, { what: `validating ${name} with ${type}`, observations }));
    }
  }

  private async pollUntil<T>(url: string, what: string, done: (item: T) => boolean): Promise<T> {
    const deadline = Date.now() + POLL_DEADLINE_MS;
    let delay = POLL_FIRST_MS;
    for (;;) {
      const res = await this.account.post(url, null, `checking ${what}`);
      const item = res.data as T;
      if (done(item)) return item;
      const now = Date.now();
      if (now > deadline) throw new Error(`the CA did not finish ${what} within ${POLL_DEADLINE_MS / 60_000} minutes`);
      const retryAt = parseRetryAfter(res.headers["retry-after"], now)?.getTime() ?? 0;
      const wait = retryAt > now ? Math.min(retryAt - now, 30_000) : delay;
      await new Promise((r) => setTimeout(r, wait));
      delay = Math.min(delay * POLL_GROWTH, POLL_MAX_MS);
    }
  }
}

/** Proving one name with one challenge type failed (the CA's verdict, or publishing the proof). */
class ChallengeFailed extends Error {
  override name = "ChallengeFailed";
  constructor(
    readonly identifier: string,
    readonly challenge: ChallengeType,
    override readonly cause: unknown,
  ) {
    super(cause instanceof Error ? cause.message : String(cause));
  }
}

export function createPrivateKey(type: KeyType): string {
  const pair =
    type === "ecdsa-p256" || type === "ecdsa-p384"
      ? generateKeyPairSync("ec", { namedCurve: type === "ecdsa-p256" ? "P-256" : "P-384" })
      : generateKeyPairSync("rsa", { modulusLength: Number(type.slice(3)) });
  return pair.privateKey.export({ type: "pkcs8", format: "pem" }).toString();
}

async function createCsr(names: string[], keyPem: string): Promise<string> {
  // The common name is optional and limited to 64 characters; the SAN list is what counts.
  const commonName = names.find((n) => !isIP(n) && n.length <= 64);
  const [, csrPem] = await acmeCrypto.createCsr({ commonName, altNames: [...names] }, keyPem);
  return acmeCrypto.getPemBodyAsB64u(csrPem);
}
