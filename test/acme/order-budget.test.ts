// The order budget: Let's Encrypt's published limits (5 orders per exact set of names per 7
// days, 5 failed validations per name per hour), staging's, a default for other CAs and the
// config's order_budget; counted in storage so that a new process (a restart) cannot spend
// more; and against Pebble, a restart loop that keeps losing its certificate places no order
// past the budget, saying in one line when the next try will be.
import test from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { chooseCa } from "../../src/config/certificate-source.js";
import { budgetLimitsFor, BudgetSpent, OrderBudget, type BudgetLimits } from "../../src/acme/order-budget.js";
import { caId, folderName } from "../../src/certificates/store-layout.js";
import { CertificateStore } from "../../src/certificates/certificate-store.js";
import { FsStorage } from "../../src/storage/fs-storage.js";
import { captureLog, tempDir, waitFor } from "../support/env.js";
import { startFrontedPebble } from "../support/ari-front.js";
import { FakeClock } from "../support/fake-clock.js";
import { loadConfigIn, startPadlock } from "../support/padlock-in-process.js";

const HOUR = 3_600_000;
const WEEK = 7 * 24 * HOUR;

test("limits: Let's Encrypt's published ones (the config may only lower them), staging's, and a default or the config's for other CAs", () => {
  const le = chooseCa("letsencrypt")!;
  assert.deepEqual(budgetLimitsFor(le), { ordersPerWeek: 5, failedValidationsPerHour: 5, source: "letsencrypt's published limit" });
  assert.deepEqual(budgetLimitsFor(le, { orders_per_week: 3, failed_validations_per_hour: 50 }), { ordersPerWeek: 3, failedValidationsPerHour: 5, source: "letsencrypt's published limit" });
  assert.deepEqual(budgetLimitsFor(chooseCa("letsencrypt-staging")!), { ordersPerWeek: 30_000, failedValidationsPerHour: 200, source: "letsencrypt-staging's published limit" });
  const other = chooseCa("https://ca.example/acme/directory")!;
  assert.deepEqual(budgetLimitsFor(other), { ordersPerWeek: 20, failedValidationsPerHour: 10, source: "padlock's default for CAs without published limits (order_budget in the config)" });
  assert.deepEqual(budgetLimitsFor(other, { orders_per_week: 100 }), { ordersPerWeek: 100, failedValidationsPerHour: 10, source: "order_budget in the config" });
});

function budgetIn(dir: string, clock: FakeClock, limits: BudgetLimits = budgetLimitsFor(chooseCa("letsencrypt")!)) {
  const { log, lines } = captureLog();
  const ledger = new CertificateStore(FsStorage.existing(dir), log, clock).ledger(chooseCa("letsencrypt")!.directoryUrl);
  return { budget: new OrderBudget(ledger, limits, clock, log), lines };
}

test("five orders for one set of names in 7 days, counted in storage: a new process cannot place a sixth; failed ones do not count", async (t) => {
  const work = tempDir("budget");
  t.after(() => work.remove());
  const clock = new FakeClock(Date.parse("2025-03-01T00:00:00Z"));
  const { budget } = budgetIn(work.dir, clock);
  const failed = await budget.reserve(["www.blog.test", "blog.test"]);
  await budget.settle(failed, "abandoned");
  for (let i = 0; i < 5; i++) {
    const id = await budget.reserve(["blog.test", "www.blog.test"]);
    await budget.settle(id, "issued");
    clock.advance(HOUR);
  }
  await budget.reserve(["shop.test"]); // another set has its own count

  // A restart: a new OrderBudget reads the same ledger.
  const { budget: restarted } = budgetIn(work.dir, clock);
  const spent = await restarted.reserve(["www.blog.test", "blog.test"]).then(() => undefined, (err: unknown) => err);
  assert.ok(spent instanceof BudgetSpent, String(spent));
  const nextTry = new Date(Date.parse("2025-03-01T00:00:00Z") + WEEK);
  assert.equal(spent.nextTry.toISOString(), nextTry.toISOString(), "when the first of the five leaves the 7 days");
  assert.equal(
    spent.message,
    `the order budget for these names is spent: 5 orders for this exact set of names in the last 7 days (letsencrypt's published limit: 5 per 7 days); nothing is ordered before ${nextTry.toISOString()}`,
  );
  clock.set(nextTry.getTime());
  await restarted.reserve(["blog.test", "www.blog.test"]);
});

test("five failed validations of a name in an hour stop every order with that name until the hour has passed", async (t) => {
  const work = tempDir("budget-failures");
  t.after(() => work.remove());
  const clock = new FakeClock(Date.parse("2025-03-01T00:00:00Z"));
  const { budget } = budgetIn(work.dir, clock);
  for (let i = 0; i < 5; i++) {
    await budget.validationFailed("www.blog.test");
    clock.advance(60_000);
  }
  const spent = await budget.reserve(["blog.test", "www.blog.test"]).then(() => undefined, (err: unknown) => err);
  assert.ok(spent instanceof BudgetSpent);
  assert.equal(spent.nextTry.toISOString(), "2025-03-01T01:00:00.000Z");
  assert.match(spent.message, /^the validation budget for www\.blog\.test is spent: it failed validation 5 times in the last hour \(letsencrypt's published limit: 5 per hour\); nothing is ordered before 2025-03-01T01:00:00\.000Z$/);
  await budget.reserve(["blog.test"]); // a set without that name
  clock.set(Date.parse("2025-03-01T01:00:00Z"));
  await budget.reserve(["blog.test", "www.blog.test"]);
});

test("a ledger that does not parse is set aside and named; counting starts afresh", async (t) => {
  const work = tempDir("budget-damaged");
  t.after(() => work.remove());
  const file = path.join(work.dir, "accounts", "acme-v02.api.letsencrypt.org-directory", "orders.json");
  const { budget, lines } = budgetIn(work.dir, new FakeClock());
  await budget.reserve(["blog.test"]);
  writeFileSync(file, "[1, 2");
  await budget.reserve(["blog.test"]);
  const copy = readdirSync(path.dirname(file)).find((f) => f.startsWith("orders.json.damaged-"))!;
  assert.equal(readFileSync(path.join(path.dirname(file), copy), "utf8"), "[1, 2");
  assert.deepEqual(
    lines.filter((l) => l.level === 50).map((l) => l.msg),
    [`damaged file ${file}: not an order ledger (${jsonError("[1, 2")}); moved aside to ${path.join(path.dirname(file), copy)}; counting orders afresh from now (the CA still enforces its own limits)`],
  );
});

test("a restart loop that loses its certificate each time places no order past the budget, and says when the next try will be", async (t) => {
  const { httpPort, pebble, front } = await startFrontedPebble(t, { ari: false });
  const work = tempDir("budget-restarts");
  t.after(() => work.remove());
  const config = { ca: front.directoryUrl, ca_root: pebble.apiRootFile, accept_terms: true, storage: "data", order_budget: { orders_per_week: 2 }, sites: [{ hosts: ["blog.test"], redirect: "https://elsewhere.test" }] };
  const folder = path.join(work.dir, "data", "certificates", caId(front.directoryUrl), folderName(["blog.test"]));
  for (let run = 1; run <= 2; run++) {
    const p = await startPadlock(loadConfigIn(work.dir, config), { baseDir: work.dir, httpPort });
    await waitFor(`run ${run}: the certificate stored`, () => !p.padlock.certificateManager!.status()[0]!.unsaved && p.padlock.certificateManager!.status()[0]!.serial, 30_000);
    await p.close();
    rmSync(folder, { recursive: true }); // lost, as on a wiped disk
  }
  const p = await startPadlock(loadConfigIn(work.dir, config), { baseDir: work.dir, httpPort });
  t.after(() => p.close());
  const failure = await waitFor("the refusal", () => p.messages().find((m) => m.includes("getting a certificate failed")), 10_000);
  assert.match(failure, /^blog\.test: getting a certificate failed \(attempt 1\): the order budget for these names is spent: 2 orders for this exact set of names in the last 7 days \(order_budget in the config: 2 per 7 days\); nothing is ordered before (\S+)\. HTTPS for these names waits, HTTP keeps serving; next attempt in 7\.0 d$/);
  assert.equal(pebble.ordersPlaced(), 2, "Pebble got two orders, not three");
  assert.equal(p.messages().filter((m) => m.includes("order budget")).length, 1, "one line");
});

function jsonError(text: string): string {
  try {
    JSON.parse(text);
  } catch (err) {
    return (err as Error).message;
  }
  return "";
}
