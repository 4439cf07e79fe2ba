// Obtaining a certificate for a name set from the CA: every order counted in the order budget
// before it is placed, and kept in the set's folder while it is in flight (pending-order.json,
// the CSR's key before finalizing), so that a stop at any step leaves an order the next start
// resumes instead of placing another; a first issuance rehearsed against the staging directory
// when asked; one log line per step. What the CA issued comes back as a certificate ready to
// install and store.
import type { CaConnection, CaConnections } from "../acme/ca-connections.js";
import { CaSetupError, profileProblem } from "../acme/ca-directory.js";
import type { ChallengeSolver, IssueJournal, IssueStep } from "../acme/issuer.js";
import type { OrderBudget } from "../acme/order-budget.js";
import type { CaChoice } from "../config/certificate-source.js";
import type { ChallengeType, KeyType } from "../config/schema.js";
import type { Logger } from "../log.js";
import type { Clock } from "../time/clock.js";
import { readCertificate } from "../tls/certificate-info.js";
import type { CertificateStore } from "./certificate-store.js";
import type { OrderReason } from "./renewal-planner.js";
import { SET_FILES } from "./store-layout.js";
import type { CertificateMeta, PendingOrder, StoredCertificate } from "./stored-set.js";

/** A name set as an order needs it. */
export interface SetToOrder {
  names: string[];
  keyType: KeyType;
  profile?: string;
  challenges: readonly ChallengeType[];
  /** Solvers only this set uses (its DNS-01 provider). */
  solvers: ChallengeSolver[];
  folder: string;
}

export interface OrderingOptions {
  connections: CaConnections;
  store: CertificateStore;
  ca: CaChoice;
  log: Logger;
  clock: Clock;
}

export interface Obtained {
  cert: StoredCertificate;
  seconds: number;
  /** Records in the order budget that the order gave a certificate. */
  settle(): Promise<void>;
}

export class Ordering {
  constructor(private readonly o: OrderingOptions) {}

  /**
   * Orders (or resumes `pending`) a certificate for the set. `onFailed` is told when an order
   * was placed or resumed and ended without a certificate; then the error is thrown.
   */
  async order(set: SetToOrder, reason: OrderReason, options: { current?: StoredCertificate; pending?: { order: PendingOrder; keyPem?: string }; onFailed(): void }): Promise<Obtained> {
    const { pending, current } = options;
    const conn = await this.o.connections.connect();
    const problem = profileProblem(conn.directory, this.o.ca.directoryUrl, set.profile);
    if (problem) throw new CaSetupError(problem);
    const replaces = pending ? pending.order.replaces : conn.directory.renewalInfo ? current?.info.ariId : undefined;
    const journal = new SetJournal(conn.budget, set.names, this.o.store, this.o.log, { folder: set.folder, reason, replaces, pending: pending?.order, now: () => this.o.clock.now() });
    const started = performance.now();
    let issued;
    try {
      issued = await conn.issuer.issue({
        names: set.names,
        keyType: set.keyType,
        profile: set.profile,
        replaces,
        challenges: set.challenges,
        solvers: set.solvers,
        onStep: (step) => this.logStep(set, step, this.o.ca, reason),
        journal,
        orderUrl: pending?.order.orderUrl,
        keyPem: pending?.keyPem,
      });
    } catch (err) {
      if (journal.ordered) options.onFailed();
      throw err;
    }
    const info = readCertificate(issued.chainPem);
    const meta: CertificateMeta = {
      names: set.names,
      ca: this.o.ca.directoryUrl,
      keyType: set.keyType,
      profile: set.profile,
      serial: info.serial,
      notBefore: info.notBefore.toISOString(),
      notAfter: info.notAfter.toISOString(),
      ariId: info.ariId,
      replaces,
      orderUrl: issued.orderUrl,
      issuedAt: new Date(this.o.clock.now()).toISOString(),
      reason,
    };
    return { cert: { chainPem: issued.chainPem, keyPem: issued.keyPem, info, meta }, seconds: (performance.now() - started) / 1000, settle: () => journal.issued() };
  }

  /**
   * A first issuance goes to the staging directory first, so a broken setup (DNS, ports, a DNS
   * provider) fails there and not against the production CA's rate limits. The staging
   * certificate is thrown away.
   */
  async rehearse(set: SetToOrder, staging: CaChoice): Promise<void> {
    const log = this.o.log;
    const what = set.names.join(", ");
    log.info(`${what}: first certificate for these names: rehearsing against the staging directory ${staging.directoryUrl} before asking ${this.o.ca.directoryUrl}`);
    try {
      const conn: CaConnection = await this.o.connections.connect(staging.directoryUrl);
      const journal = new BudgetJournal(conn.budget, set.names);
      await conn.issuer.issue({
        names: set.names,
        keyType: set.keyType,
        challenges: set.challenges,
        solvers: set.solvers,
        onStep: (step) => this.logStep(set, step, staging, "new"),
        journal,
      });
      await journal.issued();
    } catch (err) {
      log.warn(`${what}: the rehearsal against the staging directory ${staging.directoryUrl} failed; the production directory ${this.o.ca.directoryUrl} was not asked`);
      throw err;
    }
    log.info(`${what}: the rehearsal against the staging directory ${staging.directoryUrl} passed; ordering from the production directory ${this.o.ca.directoryUrl}`);
  }

  private logStep(set: SetToOrder, step: IssueStep, ca: CaChoice, reason: OrderReason): void {
    const log = this.o.log;
    const what = set.names.join(", ");
    switch (step.step) {
      case "ordering":
        log.info(
          { names: set.names, reason },
          `${what}: ordering a certificate from ${ca.label}${ca.label !== ca.directoryUrl ? ` (${ca.directoryUrl})` : ""}${reason === "new" ? "" : ` (renewal reason: ${reason})`}${step.profile ? ` (profile ${step.profile})` : ""}${step.replaces ? ` replacing ${step.replaces}` : ""}`,
        );
        break;
      case "resuming":
        if (step.status === "gone") log.info(`${what}: the order ${step.orderUrl}, placed before padlock stopped, cannot be used any more; placing a new one`);
        else log.info({ names: set.names, reason }, `${what}: resuming the order ${step.orderUrl}, placed before padlock stopped (the CA has it as ${step.status})`);
        break;
      case "validating":
        log.info(`${what}: validating ${step.name} (${step.challenge})`);
        break;
      case "fallback":
        log.warn(`${step.name}: ${step.failed} failed (${step.reason}); ${step.next ? `trying ${step.next}` : "no other allowed challenge is left"}`);
        break;
      case "already-valid":
        log.info(`${what}: ${step.name} is already validated for this account`);
        break;
      case "finalizing":
        log.info(`${what}: finalizing`);
        break;
    }
  }
}

/** Counts an order in the budget before it is placed, and how it ended. */
class BudgetJournal implements IssueJournal {
  protected ticket?: string;
  /** An order was placed or resumed. */
  ordered = false;

  constructor(
    protected readonly budget: OrderBudget,
    protected readonly names: string[],
  ) {}

  async placing(): Promise<void> {
    if (this.ticket) await this.abandoned();
    this.ticket = await this.budget.reserve(this.names);
    this.ordered = true;
  }

  async placed(_orderUrl: string): Promise<void> {}

  async finalizing(_orderUrl: string, _keyPem: string): Promise<void> {
    if (this.ticket) await this.budget.settle(this.ticket, "finalizing");
  }

  failedValidation(name: string): Promise<void> {
    return this.budget.validationFailed(name);
  }

  async abandoned(): Promise<void> {
    if (this.ticket) await this.budget.settle(this.ticket, "abandoned");
    this.ticket = undefined;
  }

  async issued(): Promise<void> {
    if (this.ticket) await this.budget.settle(this.ticket, "issued");
  }
}

/**
 * Also keeps the order in flight in the set's folder (pending-order.json, and the CSR's key
 * before finalizing), so that a stop at any step leaves an order the next start resumes. These
 * writes are best effort: when storage cannot take them the order goes on, it just cannot be
 * resumed after a stop.
 */
class SetJournal extends BudgetJournal {
  private record?: PendingOrder;

  constructor(
    budget: OrderBudget,
    names: string[],
    private readonly store: CertificateStore,
    private readonly log: Logger,
    private readonly o: { folder: string; reason: OrderReason; replaces?: string; pending?: PendingOrder; now: () => number },
  ) {
    super(budget, names);
    this.record = o.pending;
    this.ticket = o.pending?.ticket;
    this.ordered = o.pending?.orderUrl !== undefined;
  }

  override async placing(): Promise<void> {
    await super.placing();
    this.record = { ticket: this.ticket!, reason: this.o.reason, replaces: this.o.replaces, at: new Date(this.o.now()).toISOString() };
    await this.keep(this.store.writePendingOrder(this.o.folder, this.record), SET_FILES.order);
  }

  override async placed(orderUrl: string): Promise<void> {
    this.record = { ...this.record!, orderUrl };
    await this.keep(this.store.writePendingOrder(this.o.folder, this.record), SET_FILES.order);
  }

  override async finalizing(orderUrl: string, keyPem: string): Promise<void> {
    await super.finalizing(orderUrl, keyPem);
    await this.keep(this.store.writePendingKey(this.o.folder, keyPem), SET_FILES.orderKey);
  }

  override async abandoned(): Promise<void> {
    await super.abandoned();
    this.record = undefined;
    await this.store.removePendingOrder(this.o.folder);
  }

  private async keep(write: Promise<void>, file: string): Promise<void> {
    await write.catch((err: unknown) =>
      this.log.warn(`${this.names.join(", ")}: could not record the order in ${this.store.describe(`${this.o.folder}/${file}`)} (${(err as Error).message}); it goes on, but is not resumed if padlock stops before it is done`),
    );
  }
}
