// padlock killed with SIGKILL at each step of one issuance, then started again: when the CA
// has created the order but padlock has not heard back, after ordering, while the CA validates
// (a challenge token published in storage), after each name is validated, after finalizing,
// after the download, and in the middle of storing the pair (first issuance and renewal). Each
// step is found from what padlock does, never from timing: the request a front before Pebble
// sees (answered only once padlock is dead), or the file padlock is about to move into place (a
// preload kills the process right there). After every crash: no torn pair on disk; after every
// restart: HTTPS within 5 s (of the restarted padlock's first log line) and a matching pair
// stored; over all steps together at most one order more than the certificates needed,
// counted by Pebble.
import test, { after, before } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { caId, folderName } from "../../src/certificates/store-layout.js";
import { keyMatches } from "../../src/tls/pem.js";
import { readCertificate } from "../../src/tls/certificate-info.js";
import { packageRoot } from "../../src/paths.js";
import { freePort, tempDir, waitFor } from "../support/env.js";
import { startPebble, type Pebble } from "../support/pebble.js";
import { startAcmeFront, type AcmeFront, type FrontOptions } from "../support/ari-front.js";
import { httpsGet } from "../support/clients.js";
import { runPadlock, spawnPadlock, writeConfig, type PadlockProcess, type SpawnOptions } from "../support/padlock-process.js";

type Intercept = NonNullable<FrontOptions["intercept"]>;

let httpPort: number;
let pebble: Pebble;
let front: AcmeFront;
let root: string;
/** What the front does for the scenario running now. */
let armed: Intercept = {};
const extraOrders: Record<string, number> = {};
/** Milliseconds from each restart (the restarted padlock's first log line) to HTTPS for both names. */
const httpsAfter: Record<string, { fromFirstLine: number; fromSpawn: number }> = {};

before(async () => {
  httpPort = await freePort();
  pebble = await startPebble({ httpPort });
  front = await startAcmeFront(pebble, { ari: false, intercept: { before: (r) => armed.before?.(r), after: (r, a) => armed.after?.(r, a) } });
  root = await pebble.issuingRoot();
});
after(async () => {
  await front.stop();
  await pebble.stop();
});

let scenarios = 0;

interface Setup {
  names: string[];
  storage: string;
  folder: string;
  configFile: string;
  httpsPort: number;
  serve(options?: SpawnOptions): PadlockProcess;
}

async function setup(t: test.TestContext): Promise<Setup> {
  const n = ++scenarios;
  const names = [`c${n}.test`, `www.c${n}.test`];
  const work = tempDir(`crash-${n}`);
  const stops: PadlockProcess[] = [];
  t.after(async () => {
    await Promise.all(stops.map((p) => p.stop("SIGKILL")));
    work.remove();
  });
  const configFile = writeConfig(path.join(work.dir, "padlock.yaml"), { ca: front.directoryUrl, ca_root: pebble.apiRootFile, accept_terms: true, storage: "data", sites: [{ hosts: names, redirect: "https://elsewhere.test" }] });
  const httpsPort = await freePort();
  const storage = path.join(work.dir, "data");
  const serve = (options: SpawnOptions = {}) => {
    const p = spawnPadlock(["serve", "--config", configFile, "--log-format", "json", "--listen", "127.0.0.1", "--http-port", String(httpPort), "--https-port", String(httpsPort)], options);
    stops.push(p);
    return p;
  };
  return { names, storage, folder: path.join(storage, "certificates", caId(front.directoryUrl), folderName(names)), configFile, httpsPort, serve };
}

/** The front kills padlock when `matches` says so (before or after Pebble answered), then drops the connection. */
function killWhen(p: () => PadlockProcess, phase: "before" | "after", matches: (path: string, answer?: { status: number; body: unknown }) => boolean): Intercept {
  const kill = async () => {
    armed = {};
    p().child.kill("SIGKILL");
    await p().exited;
    return "drop" as const;
  };
  return phase === "before"
    ? { before: (r) => (r.method === "POST" && matches(r.path) ? kill() : undefined) }
    : { after: (r, a) => (r.method === "POST" && matches(r.path, a) ? kill() : undefined) };
}

type PairState = "none" | "matching" | "switching" | "torn";

/** key.pem and cert.pem as they are on disk; "switching" when they differ but the journal (pending-cert.pem) completes the new pair. */
function pairOnDisk(folder: string): PairState {
  const read = (f: string) => (existsSync(path.join(folder, f)) ? readFileSync(path.join(folder, f), "utf8") : undefined);
  const [key, cert, pending] = [read("key.pem"), read("cert.pem"), read("pending-cert.pem")];
  if (!key || !cert) return "none";
  if (keyMatches(cert, key)) return "matching";
  return pending && keyMatches(pending, key) ? "switching" : "torn";
}

/**
 * Starts padlock again after the crash: it takes the dead process's lock over at once, serves
 * HTTPS for both names within 5 s, and stores the pair it serves. Resolves to its output.
 */
async function restart(s: Setup, crashPoint: string, ordersBefore: number): Promise<string> {
  const state = pairOnDisk(s.folder);
  if (state === "torn") assert.fail(`${crashPoint}: a torn pair on disk: ${readdirSync(s.folder).join(", ")}`);
  const started = Date.now();
  const p = s.serve();
  let firstOutput: number | undefined;
  p.child.stdout!.once("data", () => (firstOutput = Date.now()));
  const serials = await Promise.all(s.names.map((name) => waitFor(`HTTPS for ${name} after the restart`, () => httpsGet(name, s.httpsPort, root).then((a) => a.serial), 15_000, 25)));
  // Counted from the restarted process's first log line: how long Node itself takes to start
  // is not padlock's (on a machine this test shares, it was seen to take 3 s).
  const served = Date.now();
  const elapsed = served - (firstOutput ?? started);
  assert.ok(elapsed <= 5_000, `${crashPoint}: HTTPS ${elapsed} ms after the restarted padlock's first log line (${served - started} ms after its start)\n${p.output()}`);
  assert.equal(serials[0], serials[1]);
  await waitFor("the served pair in storage", () => pairOnDisk(s.folder) === "matching" && readCertificate(readFileSync(path.join(s.folder, "cert.pem"), "utf8")).serial === serials[0], 10_000);
  assert.match(p.output(), /took over the lock \S+ from pid \d+ on \S+ \(started [^)]+\): its process \(.*\) is no longer running/, `${crashPoint}: the dead process's lock`);
  assert.ok(!/waiting for the lock/.test(p.output()), `${crashPoint}: no wait for the dead process's lock\n${p.output()}`);
  extraOrders[crashPoint] = pebble.ordersPlaced() - ordersBefore - 1;
  httpsAfter[crashPoint] = { fromFirstLine: elapsed, fromSpawn: served - started };
  await p.stop();
  return p.output();
}

/** A first issuance killed where the front says; then the restart. */
async function crashAt(t: test.TestContext, crashPoint: string, phase: "before" | "after", matches: (path: string, answer?: { status: number; body: unknown }) => boolean): Promise<{ s: Setup; output: string }> {
  const s = await setup(t);
  const ordersBefore = pebble.ordersPlaced();
  let p: PadlockProcess | undefined;
  armed = killWhen(() => p!, phase, matches);
  p = s.serve();
  const code = await Promise.race([p.exited, new Promise((r) => setTimeout(r, 30_000, "still running"))]);
  armed = {};
  assert.equal(p.child.signalCode, "SIGKILL", `${crashPoint}: padlock was killed there (exit ${String(code)})\n${p.output()}`);
  return { s, output: await restart(s, crashPoint, ordersBefore) };
}

test("killed after the CA created the order but before padlock heard of it: the one order that cannot be resumed", async (t) => {
  await crashAt(t, "order created, answer lost", "after", (p, a) => p === "/order-plz" && a!.status === 201);
});

test("killed after ordering: the order is resumed, not placed again", async (t) => {
  await crashAt(t, "after ordering", "before", (p) => p.startsWith("/authZ/"));
});

test("killed while the CA is about to validate (a token in storage): its lock is taken over and its token removed at once, each said in a line", async (t) => {
  const { s, output } = await crashAt(t, "while validating", "before", (p) => p.startsWith("/chalZ/"));
  assert.match(output, /removed 1 challenge file\(s\) left by pid \d+ on \S+ \(started [^)]+\), which is no longer running: \S+\/challenges\/http-01\/[\w-]+/);
  const tokens = path.join(s.storage, "challenges", "http-01");
  assert.deepEqual(existsSync(tokens) ? readdirSync(tokens) : [], [], "no token file left behind");
});

test("killed after the first name is validated, and after the second", async (t) => {
  let valid = 0;
  await crashAt(t, "after validating one name", "after", (p, a) => p.startsWith("/authZ/") && (a!.body as { status?: string }).status === "valid" && ++valid === 1);
  valid = 0;
  await crashAt(t, "after validating both names", "after", (p, a) => p.startsWith("/authZ/") && (a!.body as { status?: string }).status === "valid" && ++valid === 2);
});

test("killed after finalizing, and after downloading the certificate: the order's certificate is fetched again with the key kept for it", async (t) => {
  await crashAt(t, "after finalizing", "after", (p) => p.startsWith("/finalize-order/"));
  await crashAt(t, "after downloading", "after", (p) => p.startsWith("/certZ/"));
});

const crashPreload = { args: ["--import", path.join(packageRoot, "dist/test/support/crash-before-move.js")], entry: path.join(packageRoot, "dist/src/cli/main.js") };

/** A padlock that kills itself the moment it is about to move a file of a new pair into place. */
function crashWhileStoring(s: Setup, moveTo: string): PadlockProcess {
  return s.serve({ node: crashPreload, env: { PADLOCK_CRASH_BEFORE_MOVE_TO: moveTo } });
}

test("killed while storing a first certificate: before its key is moved into place, and before its certificate is", async (t) => {
  for (const [crashPoint, file, left] of [
    ["storing: before key.pem", "/key.pem", ["pending-cert.pem", "pending-key.pem", "pending-order.json"]],
    ["storing: before cert.pem", "/cert.pem", ["key.pem", "pending-cert.pem", "pending-order.json"]],
  ] as const) {
    const s = await setup(t);
    const ordersBefore = pebble.ordersPlaced();
    const p = crashWhileStoring(s, file);
    await waitFor(`${crashPoint}: the crash`, () => p.child.signalCode === "SIGKILL", 30_000);
    // status.json comes and goes with the status writer, independently of the pair.
    assert.deepEqual(readdirSync(s.folder).filter((f) => f !== "status.json").sort(), [...left], `${crashPoint}: killed at that step`);
    await restart(s, crashPoint, ordersBefore);
  }
});

test("killed while storing a renewal, between its key and its certificate: the switch is finished at the next start", async (t) => {
  const s = await setup(t);
  const first = s.serve();
  const old = await waitFor("the first certificate", () => httpsGet(s.names[0]!, s.httpsPort, root).then((a) => a.serial), 30_000, 50);
  await waitFor("it is stored", () => pairOnDisk(s.folder) === "matching", 10_000);
  await first.stop();
  const ordersBefore = pebble.ordersPlaced();
  const p = crashWhileStoring(s, "/cert.pem");
  await p.serving();
  const renew = await runPadlock(["certs", "renew", s.names[0]!, "--force", "--config", s.configFile]);
  assert.notEqual(renew.code, 0, "the padlock renewing was killed before it answered");
  await waitFor("the crash", () => p.child.signalCode === "SIGKILL", 30_000);
  assert.equal(pairOnDisk(s.folder), "switching", "the new key is in place, the old certificate still beside it, the new one in the journal");
  await restart(s, "renewal: before cert.pem", ordersBefore);
  assert.notEqual(readCertificate(readFileSync(path.join(s.folder, "cert.pem"), "utf8")).serial, old, "the renewed certificate was switched in");
});

test("over every crash point, at most one order more than the certificates needed (counted by Pebble)", (t) => {
  assert.equal(Object.keys(extraOrders).length, 10, `every crash point ran: ${JSON.stringify(extraOrders)}`);
  const total = Object.values(extraOrders).reduce((a, b) => a + b, 0);
  t.diagnostic(`orders beyond one per certificate, by crash point: ${JSON.stringify(extraOrders)}; total ${total}`);
  t.diagnostic(`ms from the restarted padlock's first log line to HTTPS, by crash point: ${JSON.stringify(httpsAfter)}`);
  assert.ok(total <= 1, `extra orders by crash point: ${JSON.stringify(extraOrders)}`);
});
