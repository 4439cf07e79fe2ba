// Alerts for real: a webhook the test runs and a command that writes a file, on a renewal that
// fails because the CA (Pebble) is gone; one alert per name set, event and day. And the "last
// third of life without renewal" alert on an injected clock.
import test from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { captureLog, freePort, tempDir, waitFor } from "../support/env.js";
import { startPebble } from "../support/pebble.js";
import { loadConfigIn, startPadlock } from "../support/padlock-in-process.js";
import { FakeClock } from "../support/fake-clock.js";
import { AlertNotifier, type Alert } from "../../src/alerts/notifier.js";
import { CertificateAlerts } from "../../src/alerts/certificate-alerts.js";
import { AcmeProblem } from "../../src/acme/problems.js";

const NAMES = ["alerts.test"];

interface Receiver {
  url: string;
  alerts: Alert[];
  close(): Promise<void>;
}

async function startReceiver(): Promise<Receiver> {
  const alerts: Alert[] = [];
  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c));
    req.on("end", () => {
      assert.equal(req.headers["content-type"], "application/json");
      alerts.push(JSON.parse(body) as Alert);
      res.end("ok");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}/hook`, alerts, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

test("a failed renewal alerts the webhook (JSON) and the command (env vars), in the log's words, once a day", async (t) => {
  const httpPort = await freePort();
  const pebble = await startPebble({ httpPort });
  let pebbleStopped = false;
  t.after(() => (pebbleStopped ? undefined : pebble.stop()));
  const receiver = await startReceiver();
  t.after(() => receiver.close());
  const work = tempDir("alerts");
  t.after(() => work.remove());
  const commandOut = path.join(work.dir, "alert.txt");
  const config = {
    ca: pebble.directoryUrl,
    ca_root: pebble.apiRootFile,
    accept_terms: true,
    storage: "data",
    log: { access: "off" },
    alerts: { webhook: receiver.url, command: `printf '%s\\n%s\\n%s\\n' "$PADLOCK_EVENT" "$PADLOCK_NAMES" "$PADLOCK_MESSAGE" > '${commandOut}'` },
    sites: [{ hosts: NAMES, redirect: "https://elsewhere.test" }],
  };
  const run = await startPadlock(loadConfigIn(work.dir, config), { baseDir: work.dir, httpPort, tuning: { retry: { baseMs: 60_000, maxMs: 60_000 } } });
  t.after(() => run.close());
  const manager = run.padlock.certificateManager!;
  // Planned renewal = the first issuance has finished (a renew during it would join it).
  await waitFor("the first certificate and its renewal plan", () => manager.status()[0]!.nextRenewal, 30_000);
  assert.equal(receiver.alerts.length, 0, "no alert while all is well");

  await pebble.stop();
  pebbleStopped = true;
  await assert.rejects(manager.renew(NAMES, { force: true }), /cannot reach the CA/);
  await run.padlock.operations!.notifier!.idle();
  assert.equal(receiver.alerts.length, 1);
  const alert = receiver.alerts[0]!;
  assert.equal(alert.event, "renewal-failed");
  assert.deepEqual(alert.names, NAMES);
  assert.match(alert.problem, /^getting a certificate failed \(attempt 1\): cannot reach the CA at https:\/\/127\.0\.0\.1:\d+: connection refused/);
  assert.match(alert.fix, /padlock doctor/);
  assert.equal(alert.message, `${NAMES[0]}: ${alert.problem} Fix: ${alert.fix}`);
  assert.equal(alert.notAfter, manager.status()[0]!.notAfter!.toISOString());
  const logLine = run.messages().find((m) => m.includes("getting a certificate failed"));
  assert.ok(logLine?.includes(alert.problem), `the alert's problem is the log's words:\n${logLine}\n${alert.problem}`);

  assert.equal(readFileSync(commandOut, "utf8"), `renewal-failed\n${NAMES[0]}\n${alert.message}\n`);

  // The same failure again the same day: no second alert.
  await assert.rejects(manager.renew(NAMES, { force: true }), /cannot reach the CA/);
  await run.padlock.operations!.notifier!.idle();
  assert.equal(receiver.alerts.length, 1, "one alert per name set, event and day");
});

test("a certificate entering its last third unrenewed alerts once; a rate limit alerts as account-limited; a broken notifier is only logged", async (t) => {
  const work = tempDir("alerts-clock");
  t.after(() => work.remove());
  const { log, lines } = captureLog();
  const deadPort = await freePort();
  const clock = new FakeClock(Date.parse("2026-01-01T00:00:00Z"));
  const marker = path.join(work.dir, "ran");
  const notifier = new AlertNotifier({ webhook: `http://127.0.0.1:${deadPort}/`, command: `echo "$PADLOCK_EVENT" >> '${marker}'; exit 3`, log, now: () => clock.now() });
  const alerts = new CertificateAlerts(notifier, clock);
  t.after(() => alerts.close());
  const notBefore = new Date(clock.now());
  const notAfter = new Date(clock.now() + 90 * 86_400_000);
  alerts.observe({ type: "installed", names: NAMES, folder: "certificates/ca/alerts.test", serial: "01", notBefore, notAfter, how: "from storage" });

  clock.advance(59 * 86_400_000);
  await notifier.idle();
  assert.equal(existsSync(marker), false, "two thirds not reached: no alert");
  clock.advance(86_400_000 + 3600_000); // the last third begins at day 60, 00:00; now 01:00 the same day
  await notifier.idle();
  assert.equal(readFileSync(marker, "utf8"), "expiring\n");
  assert.ok(lines.some((l) => /alert webhook http:\/\/127\.0\.0\.1:\d+\/ failed: .*not delivered/.test(l.msg)), "the dead webhook is logged");
  assert.ok(lines.some((l) => /alert command `.*` exited with 3/.test(l.msg)), "the failing command is logged");

  const limited = new AcmeProblem({ type: "urn:ietf:params:acme:error:rateLimited", detail: "too many certificates already issued" }, { status: 429 });
  alerts.observe({ type: "failed", names: NAMES, folder: "certificates/ca/alerts.test", message: limited.message, error: limited, failures: 1, nextRetry: new Date(clock.now() + 3600_000), current: { serial: "01", notBefore, notAfter } });
  await notifier.idle();
  // renewal-failed and account-limited are new today; expiring went out already. The two commands
  // run at once, so they append in either order.
  const [first, ...newToday] = readFileSync(marker, "utf8").trimEnd().split("\n");
  assert.equal(first, "expiring");
  assert.deepEqual(newToday.sort(), ["account-limited", "renewal-failed"]);
  assert.ok(lines.some((l) => /alert \(account-limited\) sent: alerts\.test: the CA is rate limiting this account: .*rateLimited.*Fix: /.test(l.msg)));
});
