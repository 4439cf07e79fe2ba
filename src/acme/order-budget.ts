// Keeps padlock under a CA's published limits whatever goes wrong: every order is counted in
// storage before it is placed (so a restart loop cannot spend more), and failed validations are
// counted per name. Let's Encrypt allows 5 certificates per exact set of names per 7 days and 5
// failed authorizations per name per hour; an order that may still end in a certificate counts
// until it is known to have failed. Counted per CA directory, in a ledger the certificate store
// keeps (accounts/<ca>/orders.json).
import { randomBytes } from "node:crypto";
import type { Logger } from "../log.js";
import { knownCaAt, type CaChoice } from "../config/certificate-source.js";
import type { Clock } from "../time/clock.js";

const WEEK_MS = 7 * 86_400_000;
const HOUR_MS = 3_600_000;

export interface BudgetLimits {
  /** Orders for one exact set of names in any 7 days. */
  ordersPerWeek: number;
  /** Failed validations of one name in any hour. */
  failedValidationsPerHour: number;
  /** Where the numbers come from, for the log line that says the budget is spent. */
  source: string;
}

/** The config's order_budget. */
export interface BudgetSettings {
  orders_per_week?: number;
  failed_validations_per_hour?: number;
}

/** For CAs that publish no limits (ZeroSSL, a private CA, Pebble): generous enough for day-long certificates renewed on time. */
export const DEFAULT_BUDGET = { orders: 20, failures: 10 };

/** The CA's published limits (the config may only lower them), else the config's or the default. */
export function budgetLimitsFor(ca: CaChoice, settings: BudgetSettings = {}): BudgetLimits {
  const known = knownCaAt(ca.directoryUrl);
  const published = known?.ca.limits;
  const pick = (configured: number | undefined, limit: number | undefined, fallback: number) =>
    limit === undefined ? (configured ?? fallback) : Math.min(configured ?? limit, limit);
  return {
    ordersPerWeek: pick(settings.orders_per_week, published?.ordersPerWeek, DEFAULT_BUDGET.orders),
    failedValidationsPerHour: pick(settings.failed_validations_per_hour, published?.failedValidationsPerHour, DEFAULT_BUDGET.failures),
    source: published ? `${known!.name}'s published limit` : settings.orders_per_week || settings.failed_validations_per_hour ? "order_budget in the config" : "padlock's default for CAs without published limits (order_budget in the config)",
  };
}

type OrderState = "placed" | "finalizing" | "issued" | "abandoned";

interface LedgerOrder {
  id: string;
  /** Sorted: the CA counts the exact set, in any order. */
  names: string[];
  at: string;
  state: OrderState;
}

interface LedgerFailure {
  name: string;
  at: string;
}

interface Ledger {
  orders: LedgerOrder[];
  failedValidations: LedgerFailure[];
}

/** Where the ledger is kept, and changed under its lock. */
export interface LedgerStore {
  /** For log lines: where the ledger is. */
  readonly location: string;
  /** Under the ledger's lock: reads it (undefined when there is none) and writes what `change` returns. */
  update(change: (stored: string | undefined) => Promise<string>): Promise<void>;
  /** A ledger that does not parse is set aside (one ERROR line says why and what padlock does). */
  setAside(problem: string, action: string): Promise<void>;
}

/** The budget is spent: nothing is ordered before `nextTry`. */
export class BudgetSpent extends Error {
  override name = "BudgetSpent";
  constructor(
    message: string,
    readonly nextTry: Date,
  ) {
    super(message);
  }
}

const RANK: Record<OrderState, number> = { placed: 0, finalizing: 1, issued: 2, abandoned: 2 };

export class OrderBudget {
  /** What this process counted, kept even when storage cannot be written (merged into every write). */
  private readonly mine: Ledger = { orders: [], failedValidations: [] };

  constructor(
    private readonly ledger: LedgerStore,
    readonly limits: BudgetLimits,
    private readonly clock: Clock,
    private readonly log: Logger,
  ) {}

  /**
   * Counts an order for `names` about to be placed, in storage first: throws BudgetSpent when
   * the budget is spent, or the storage's error when the count cannot be written (then nothing
   * may be ordered). Resolves to the order's id in the ledger.
   */
  async reserve(names: string[]): Promise<string> {
    const set = [...names].sort();
    const id = randomBytes(6).toString("hex");
    await this.update((ledger, now) => {
      const spent = this.spent(ledger, set, now);
      if (spent) throw spent;
      const order: LedgerOrder = { id, names: set, at: new Date(now).toISOString(), state: "placed" };
      ledger.orders.push(order);
      this.mine.orders.push({ ...order });
    });
    return id;
  }

  /** Records how an order went; a write that fails is logged, the count kept in memory. */
  async settle(id: string, state: Exclude<OrderState, "placed">): Promise<void> {
    const own = this.mine.orders.find((o) => o.id === id);
    if (own) own.state = state;
    await this.update((ledger) => {
      const order = ledger.orders.find((o) => o.id === id);
      if (order && RANK[state] > RANK[order.state]) order.state = state;
    }).catch((err: unknown) => this.log.warn(`could not record an order's outcome in ${this.ledger.location} (${(err as Error).message}); it stays counted`));
  }

  async validationFailed(name: string): Promise<void> {
    const failure = { name, at: new Date(this.clock.now()).toISOString() };
    // Counted here first: every write merges this process's counts in.
    this.mine.failedValidations.push(failure);
    await this.update(() => undefined).catch((err: unknown) =>
      this.log.warn(`could not count a failed validation of ${name} in ${this.ledger.location} (${(err as Error).message}); it is counted in memory`),
    );
  }

  /** Why no order for `set` may be placed now, or undefined. */
  private spent(ledger: Ledger, set: string[], now: number): BudgetSpent | undefined {
    const same = ledger.orders.filter((o) => o.state !== "abandoned" && o.names.join("\n") === set.join("\n")).map((o) => Date.parse(o.at));
    const limits = this.limits;
    if (same.length >= limits.ordersPerWeek) {
      const nextTry = new Date(nthFromEnd(same, limits.ordersPerWeek) + WEEK_MS);
      return new BudgetSpent(
        `the order budget for these names is spent: ${same.length} orders for this exact set of names in the last 7 days (${limits.source}: ${limits.ordersPerWeek} per 7 days); nothing is ordered before ${nextTry.toISOString()}`,
        nextTry,
      );
    }
    for (const name of set) {
      const failed = ledger.failedValidations.filter((f) => f.name === name).map((f) => Date.parse(f.at));
      if (failed.length < limits.failedValidationsPerHour) continue;
      const nextTry = new Date(nthFromEnd(failed, limits.failedValidationsPerHour) + HOUR_MS);
      return new BudgetSpent(
        `the validation budget for ${name} is spent: it failed validation ${failed.length} times in the last hour (${limits.source}: ${limits.failedValidationsPerHour} per hour); nothing is ordered before ${nextTry.toISOString()}`,
        nextTry,
      );
    }
    return undefined;
  }

  /** Read, change and write the ledger under its lock, with this process's own counts merged in. */
  private update(change: (ledger: Ledger, now: number) => void): Promise<void> {
    return this.ledger.update(async (stored) => {
      const now = this.clock.now();
      prune(this.mine, now);
      const ledger = prune(merge(await this.parse(stored), this.mine), now);
      change(ledger, now);
      return JSON.stringify(ledger, null, 2) + "\n";
    });
  }

  private async parse(stored: string | undefined): Promise<Ledger> {
    if (stored === undefined) return { orders: [], failedValidations: [] };
    try {
      const v = JSON.parse(stored) as Partial<Ledger>;
      if (!Array.isArray(v.orders) || !Array.isArray(v.failedValidations)) throw new Error("orders or failedValidations missing");
      return { orders: v.orders, failedValidations: v.failedValidations };
    } catch (err) {
      await this.ledger.setAside(`not an order ledger (${(err as Error).message})`, "counting orders afresh from now (the CA still enforces its own limits)");
      return { orders: [], failedValidations: [] };
    }
  }
}

/** The stored ledger with this process's counts added (an order's furthest state wins). */
function merge(stored: Ledger, mine: Ledger): Ledger {
  const orders = stored.orders.map((o) => ({ ...o }));
  for (const own of mine.orders) {
    const found = orders.find((o) => o.id === own.id);
    if (!found) orders.push({ ...own });
    else if (RANK[own.state] > RANK[found.state]) found.state = own.state;
  }
  const failures = [...stored.failedValidations];
  for (const f of mine.failedValidations) if (!failures.some((g) => g.name === f.name && g.at === f.at)) failures.push(f);
  return { orders, failedValidations: failures };
}

/** Drops what has left the windows the limits look at. */
function prune(ledger: Ledger, now: number): Ledger {
  ledger.orders = ledger.orders.filter((o) => now - Date.parse(o.at) < WEEK_MS);
  ledger.failedValidations = ledger.failedValidations.filter((f) => now - Date.parse(f.at) < HOUR_MS);
  return ledger;
}

/** Of `times`, the one that must leave the window before one more fits under `limit`. */
function nthFromEnd(times: number[], limit: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  return sorted[sorted.length - limit]!;
}
