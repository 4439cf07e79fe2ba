// One certificate order (RFC 8555 §7.4): new order → prove each name with a challenge → finalize
// with a CSR → download the chain. Polls fast and backs off, because a CA may validate in
// milliseconds (Pebble) or in seconds (Let's Encrypt); the CA's Retry-After wins when given.
// A journal hears of each step that matters after a crash (placing, placed, finalizing), so an
// order interrupted by a stop is continued from where it is (`orderUrl`) instead of placed anew.
import { isIP } from "node:net";
import { createCsr } from "./csr.js";
import type { AcmeAccount } from "./account.js";
import { AcmeProblem, parseRetryAfter, type ProblemDocument } from "./problems.js";
import { Dns01Error } from "./dns01/provider.js";
import { caFetchOf, type CaFetch, type Observation } from "./problem-catalogue.js";
import type { ChallengeType, KeyType } from "../config/schema.js";
import { createPrivateKey } from "../tls/pem.js";

/** Publishes what a challenge needs (a token file, a TLS certificate, a TXT record) while the CA checks it. */
export interface ChallengeSolver {
  readonly type: ChallengeType;
  /** Publishes the proof for `identifier`, runs `validate` (the CA checks), and withdraws the proof whatever happened. */
  withProof<T>(identifier: string, token: string, keyAuthorization: string, validate: () => Promise<T>): Promise<T>;
}

export type IssueStep =
  | { step: "ordering"; replaces?: string; profile?: string }
  /** An order placed before a restart is continued; "gone" when the CA no longer has it usable. */
  | { step: "resuming"; orderUrl: string; status: string }
  | { step: "validating"; name: string; challenge: ChallengeType }
  /** A challenge type failed; `next` is tried with a new order, or none is left. */
  | { step: "fallback"; name: string; failed: ChallengeType; reason: string; next?: ChallengeType }
  | { step: "already-valid"; name: string }
  | { step: "finalizing" };

/** Told of the steps of an order that must survive a crash, and may refuse to place one. */
export interface IssueJournal {
  /** A new order is about to be placed; throwing stops it (the order budget). */
  placing(): Promise<void>;
  /** The CA created it. */
  placed(orderUrl: string): Promise<void>;
  /** The CSR's key, before the CA is asked to issue: afterwards the certificate is only usable with it. */
  finalizing(orderUrl: string, keyPem: string): Promise<void>;
  /** The CA's validation of a name failed. */
  failedValidation(name: string): Promise<void>;
  /** The order ended without a certificate (a failed challenge, or it is gone); another may follow. */
  abandoned(): Promise<void>;
}

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
  journal?: IssueJournal;
  /** An order placed before (by a process that stopped): continued instead of placing a new one. */
  orderUrl?: string;
  /** The key for the CSR (the one a resumed order was finalized with); a new one otherwise. */
  keyPem?: string;
}

export interface Issued {
  keyPem: string;
  chainPem: string;
  orderUrl: string;
}

interface Order {
  status: "pending" | "ready" | "processing" | "valid" | "invalid";
  identifiers?: { type: string; value: string }[];
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
    private readonly observeHttp01?: (name: string, fetched: CaFetch | undefined) => Promise<Observation[]>,
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
    const keyPem = req.keyPem ?? createPrivateKey(req.keyType ?? "ecdsa-p256");
    const csr = createCsr(req.names, keyPem);
    let resume = req.orderUrl;
    let firstFailure: ChallengeFailed | undefined;
    for (;;) {
      try {
        const resumed = resume ? await this.resumeOrder(resume, req, step) : undefined;
        resume = undefined;
        const { order, orderUrl } = resumed ?? (await this.placeOrder(req, step));
        return await this.complete(order, orderUrl, remaining, solvers, keyPem, csr, req, step);
      } catch (err) {
        if (!(err instanceof ChallengeFailed)) throw err;
        // padlock is stopping: no other challenge type (and no new order) is tried.
        if (err.cause instanceof Dns01Error && err.cause.kind === "stopped") throw err.cause;
        await req.journal?.abandoned();
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

  private async placeOrder(req: IssueRequest, step: (s: IssueStep) => void): Promise<{ order: Order; orderUrl: string }> {
    await req.journal?.placing();
    step({ step: "ordering", replaces: req.replaces, profile: req.profile });
    const placed = await this.newOrder(req);
    await req.journal?.placed(placed.orderUrl);
    return placed;
  }

  /** The order as the CA has it now; undefined (and abandoned) when it can no longer give a certificate padlock can use. */
  private async resumeOrder(orderUrl: string, req: IssueRequest, step: (s: IssueStep) => void): Promise<{ order: Order; orderUrl: string } | undefined> {
    let order: Order | undefined;
    try {
      order = (await this.account.post(orderUrl, null, "reading the order placed before the restart")).data as Order;
    } catch (err) {
      if (!(err instanceof AcmeProblem)) throw err; // the CA unreachable: try again later
    }
    const names = (order?.identifiers ?? []).map((i) => i.value).sort().join(" ");
    // A finalized order's certificate is only usable with the key of its CSR.
    const usable = order !== undefined && order.status !== "invalid" && names === [...req.names].sort().join(" ") && (req.keyPem !== undefined || order.status === "pending" || order.status === "ready");
    step({ step: "resuming", orderUrl, status: usable ? order!.status : "gone" });
    if (usable) return { order: order!, orderUrl };
    await req.journal?.abandoned();
    return undefined;
  }

  private async complete(
    order: Order,
    orderUrl: string,
    preference: ChallengeType[],
    solvers: Map<ChallengeType, ChallengeSolver>,
    keyPem: string,
    csr: string,
    req: IssueRequest,
    step: (s: IssueStep) => void,
  ): Promise<Issued> {
    if (order.status === "pending") {
      if (preference[0] === "dns-01") {
        // Waiting for DNS to show each record dominates: all names at once. Every authorization
        // runs to its end (and cleans up) before a failure is reported.
        const results = await Promise.allSettled(order.authorizations.map((url) => this.authorize(url, preference, solvers, req, step)));
        const failure = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
        if (failure) throw failure.reason;
      } else {
        // One name after the other: a failure stops the order before other names spend the CA's
        // failed-validation limit, and a crash between two names leaves the order resumable
        // (a validation in flight while padlock is down fails, since nothing answers the CA).
        for (const url of order.authorizations) await this.authorize(url, preference, solvers, req, step);
      }
    } else if (order.status === "invalid") {
      throw new AcmeProblem(order.error ?? { detail: "the order is invalid" }, { what: "the new order" });
    }

    let finalized = order;
    if (order.status === "pending" || order.status === "ready") {
      step({ step: "finalizing" });
      await req.journal?.finalizing(orderUrl, keyPem);
      finalized = (await this.account.post(order.finalize, { csr }, "finalizing the order")).data as Order;
    }
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

  private async authorize(url: string, preference: ChallengeType[], solvers: Map<ChallengeType, ChallengeSolver>, req: IssueRequest, step: (s: IssueStep) => void): Promise<void> {
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
      await req.journal?.failedValidation(name);
      const failed = verdict.challenges.find((c) => c.type === type);
      const fetched = caFetchOf(failed as Parameters<typeof caFetchOf>[0]);
      const observations = type === "http-01" && this.observeHttp01 ? await this.observeHttp01(name, fetched).catch(() => []) : [];
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
