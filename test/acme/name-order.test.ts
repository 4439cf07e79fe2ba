// The same names in another order are the same certificate: one folder (named after the sorted
// names), no new order. A folder an older padlock made for the reordered names is adopted at
// start (one log line), `certs list` shows the set once, and `certs forget` says exactly what
// it removes and what it keeps.
import test from "node:test";
import assert from "node:assert/strict";
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { caId, folderName, SET_FILES } from "../../src/certificates/store-layout.js";
import { tempDir, waitFor } from "../support/env.js";
import { startFrontedPebble } from "../support/ari-front.js";
import { loadConfigIn, startPadlock } from "../support/padlock-in-process.js";
import { runPadlock } from "../support/padlock-process.js";

const NAMES = ["blog.test", "www.blog.test"];
const REORDERED = ["www.blog.test", "blog.test"];

function configOf(directoryUrl: string, caRoot: string, hosts: string[]) {
  return { ca: directoryUrl, ca_root: caRoot, accept_terms: true, storage: "data", sites: [{ hosts, redirect: "https://elsewhere.test" }] };
}

test("the same names in another order: the stored certificate is used, no second folder, no new order", async (t) => {
  const { httpPort, pebble, front } = await startFrontedPebble(t, { ari: false });
  const work = tempDir("name-order");
  let second: Awaited<ReturnType<typeof startPadlock>> | undefined;
  // Stopped before its storage goes: a padlock whose files vanish orders again, writing as they are removed.
  t.after(async () => {
    await second?.close();
    work.remove();
  });
  const first = await startPadlock(loadConfigIn(work.dir, configOf(front.directoryUrl, pebble.apiRootFile, NAMES)), { baseDir: work.dir, httpPort });
  const serial = await waitFor("the certificate stored", () => !first.padlock.certificateManager!.status()[0]!.unsaved && first.padlock.certificateManager!.status()[0]!.serial, 30_000);
  await first.close();

  second = await startPadlock(loadConfigIn(work.dir, configOf(front.directoryUrl, pebble.apiRootFile, REORDERED)), { baseDir: work.dir, httpPort });
  assert.equal(second.padlock.certificateManager!.status()[0]!.serial, serial, "installed from storage at start");
  await waitFor("the renewal plan", () => second.padlock.certificateManager!.status()[0]!.nextRenewal);
  assert.equal(pebble.ordersPlaced(), 1, "no new order");
  const caFolder = path.join(work.dir, "data", "certificates", caId(front.directoryUrl));
  assert.deepEqual(readdirSync(caFolder), [folderName(NAMES)]);
  assert.equal(folderName(REORDERED), folderName(NAMES));
});

test("a folder an older padlock made for the reordered names: listed once, adopted at start in one line, forgotten with every file named", async (t) => {
  const { httpPort, pebble, front } = await startFrontedPebble(t, { ari: false });
  const work = tempDir("name-order-adopt");
  t.after(() => work.remove());
  const configFile = path.join(work.dir, "padlock.yaml");
  const caFolder = path.join(work.dir, "data", "certificates", caId(front.directoryUrl));
  const canonical = path.join(caFolder, folderName(NAMES));
  // Before folder names were sorted, [www.blog.test, blog.test] went to a folder named after its first name.
  const older = path.join(caFolder, folderName(NAMES).replace(/^blog\.test/, "www.blog.test"));

  const p = await startPadlock(loadConfigIn(work.dir, configOf(front.directoryUrl, pebble.apiRootFile, NAMES)), { baseDir: work.dir, httpPort });
  const manager = p.padlock.certificateManager!;
  const firstSerial = await waitFor("the certificate stored", () => !manager.status()[0]!.unsaved && manager.status()[0]!.serial, 30_000);
  // The first certificate, as the older padlock would have kept it, goes in beside the renewed one.
  // Its files only: the folder of a running padlock can hold a write's temp file for a moment
  // (status.json's), which storage never lists and so no adoption moves.
  const firstFiles = path.join(work.dir, "first");
  mkdirSync(firstFiles);
  for (const file of [SET_FILES.cert, SET_FILES.key, SET_FILES.meta, SET_FILES.status]) cpSync(path.join(canonical, file), path.join(firstFiles, file));
  await manager.renew(NAMES, { force: true });
  const newest = await waitFor("the renewal stored", () => !manager.status()[0]!.unsaved && manager.status()[0]!.serial, 30_000);
  await p.close();
  cpSync(firstFiles, older, { recursive: true });
  const meta = JSON.parse(readFileSync(path.join(older, "meta.json"), "utf8")) as { names: string[] };
  writeFileSync(path.join(older, "meta.json"), JSON.stringify({ ...meta, names: REORDERED }));
  const certs = (...args: string[]) => runPadlock(["certs", ...args, "--config", configFile]);

  // Offline, both folders are there: the set is listed once (the certificate valid longest).
  const listed = JSON.parse((await certs("list", "--json")).stdout) as { certificates: { serial: string; folder: string; duplicates?: string[] }[] };
  assert.equal(listed.certificates.length, 1, JSON.stringify(listed));
  assert.equal(listed.certificates[0]!.serial, newest);
  assert.deepEqual(listed.certificates[0]!.duplicates, [path.relative(path.join(work.dir, "data"), older)]);
  assert.match((await certs("show", "blog.test")).stdout, /^also in: +certificates\/\S+\/www\.blog\.test\+1-\w+ \(the same names in another order; padlock adopts them at its next start\)$/m);

  const ordersBefore = pebble.ordersPlaced();
  const again = await startPadlock(loadConfigIn(work.dir, configOf(front.directoryUrl, pebble.apiRootFile, REORDERED)), { baseDir: work.dir, httpPort });
  let closed = false;
  t.after(() => (closed ? undefined : again.close()));
  // The folder goes, then the line is written: both are waited for.
  await waitFor("the adoption", () => !existsSync(older) && again.messages().some((m) => m.includes("adopted")), 10_000);
  const adopted = again.messages().filter((m) => m.includes("adopted"));
  assert.equal(adopted.length, 1);
  assert.match(adopted[0]!, new RegExp(`^www\\.blog\\.test, blog\\.test: adopted ${esc(older)} \\(the same names in another order\\) into ${esc(canonical)}: its older certificate ${firstSerial} was kept beside the set's as \\*\\.replaced-\\d{8}T\\d{6}\\.\\d{3}Z$`));
  assert.equal(again.padlock.certificateManager!.status()[0]!.serial, newest);
  await again.close();
  closed = true;
  assert.equal(pebble.ordersPlaced(), ordersBefore, "adopting orders nothing");

  const forgotten = await certs("forget", "www.blog.test");
  assert.equal(forgotten.code, 0, forgotten.stderr);
  const replaced = readdirSync(canonical).sort().join(", ");
  assert.match(replaced, /^cert\.pem\.replaced-\S+, key\.pem\.replaced-\S+, meta\.json\.replaced-\S+, status\.json\.replaced-\S+$/);
  assert.equal(forgotten.stdout, `blog.test, www.blog.test: removed meta.json, cert.pem, key.pem, status.json from ${canonical} (kept there: ${replaced}); the CA account is kept. padlock orders a new one when it next starts\n`);
});

function esc(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
