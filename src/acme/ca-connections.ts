// The CA side of certificate management, per ACME directory (the CA, and its staging directory
// when first issuances are rehearsed): a transport of its own (a CA's nonces are no good at
// another), the directory, the account (opened under its lock), an issuer for orders and the
// order budget. Made on first use, made again after a failure, closed together.
import type { CaChoice } from "../config/certificate-source.js";
import type { Logger } from "../log.js";
import type { Clock } from "../time/clock.js";
import { AcmeAccount, type AccountStore } from "./account.js";
import { fetchRenewalInfo, type RenewalInfo } from "./ari.js";
import { fetchDirectory, type AcmeDirectory } from "./ca-directory.js";
import { CaTransport, type CaRequestOutcome } from "./ca-transport.js";
import { Issuer, type ChallengeSolver } from "./issuer.js";
import { budgetLimitsFor, OrderBudget, type BudgetSettings, type LedgerStore } from "./order-budget.js";
import type { CaFetch, Observation } from "./problem-catalogue.js";

export interface CaConnection {
  ca: CaChoice;
  transport: CaTransport;
  directory: AcmeDirectory;
  account: AcmeAccount;
  issuer: Issuer;
  budget: OrderBudget;
}

export interface CaConnectionsOptions {
  ca: CaChoice;
  /** A staging CA first issuances are rehearsed against. */
  rehearsal?: CaChoice;
  /** PEM of an extra root trusted for the CAs' APIs. */
  caRoot?: string;
  email?: string;
  acceptTerms?: boolean;
  eab?: { kid: string; hmac_key: string };
  /** The config's order_budget (the CA's published limits apply whatever it says). */
  budget?: BudgetSettings;
  /** Solvers every order may use (HTTP-01, TLS-ALPN-01); a name set brings its own DNS-01. */
  solvers: ChallengeSolver[];
  /** What padlock itself sees at a name's HTTP-01 URL when a validation fails (for the message). */
  observeHttp01?: (name: string, fetched: CaFetch | undefined) => Promise<Observation[]>;
  /** Where each CA's account and order ledger are kept, and the account's lock. */
  storeFor(directoryUrl: string): { account: AccountStore & { lock(): Promise<{ release(): Promise<void> }> }; ledger: LedgerStore };
  clock: Clock;
  log: Logger;
  /** Told the outcome of every request to a CA (metrics). */
  observe?: (outcome: CaRequestOutcome) => void;
}

/**
 * How long ARI lookups take a failed connection to the CA as the answer: at start, a thousand
 * stored certificates each ask, and each would try the unreachable CA again. Orders always try.
 */
const CONNECT_FAILURE_MEMORY_MS = 30_000;

export class CaConnections {
  private readonly transport: CaTransport;
  private connectFailure?: { error: unknown; at: number };
  /** By directory URL. */
  private readonly connections = new Map<string, Promise<CaConnection>>();

  constructor(private readonly o: CaConnectionsOptions) {
    this.transport = this.newTransport();
  }

  /** The connection to the CA (or to another directory, the staging one), made on first use. */
  connect(directoryUrl = this.o.ca.directoryUrl): Promise<CaConnection> {
    let connection = this.connections.get(directoryUrl);
    if (connection) return connection;
    const ca = directoryUrl === this.o.ca.directoryUrl ? this.o.ca : (this.o.rehearsal ?? this.o.ca);
    const transport = directoryUrl === this.o.ca.directoryUrl ? this.transport : this.newTransport();
    connection = (async () => {
      const directory = await fetchDirectory(transport, directoryUrl);
      const store = this.o.storeFor(directoryUrl);
      const lock = await store.account.lock();
      try {
        const account = await AcmeAccount.open({ store: store.account, directoryUrl, directory, transport, email: this.o.email, acceptTerms: this.o.acceptTerms, eab: this.o.eab });
        const budget = new OrderBudget(store.ledger, budgetLimitsFor(ca, this.o.budget), this.o.clock, this.o.log);
        return { ca, transport, directory, account, issuer: new Issuer(account, this.o.solvers, this.o.observeHttp01), budget };
      } finally {
        await lock.release().catch(() => undefined);
      }
    })();
    this.connections.set(directoryUrl, connection);
    connection.catch(() => {
      this.connections.delete(directoryUrl);
      if (transport !== this.transport) void transport.close();
    });
    return connection;
  }

  /** The CA's renewal window for a certificate (ARI); undefined when the CA offers none. */
  async renewalInfo(ariId: string): Promise<RenewalInfo | undefined> {
    // A connection made or being made since (an order's) is used instead of the failure.
    const failed = this.connections.has(this.o.ca.directoryUrl) ? undefined : this.connectFailure;
    if (failed && this.o.clock.now() - failed.at < CONNECT_FAILURE_MEMORY_MS) throw failed.error;
    let directory: AcmeDirectory;
    try {
      ({ directory } = await this.connect());
    } catch (err) {
      this.connectFailure = { error: err, at: this.o.clock.now() };
      throw err;
    }
    if (!directory.renewalInfo) return undefined;
    return fetchRenewalInfo(this.transport, directory.renewalInfo, ariId, this.o.clock.now());
  }

  async close(): Promise<void> {
    const others = await Promise.allSettled([...this.connections.values()]);
    for (const c of others) if (c.status === "fulfilled" && c.value.transport !== this.transport) await c.value.transport.close();
    await this.transport.close();
  }

  private newTransport(): CaTransport {
    return new CaTransport({ extraRoot: this.o.caRoot, observe: this.o.observe });
  }
}
