// Storage that stops being writable in the middle of an issuance, for real: padlock runs in a
// mount namespace of its own where its storage folder is remounted read-only the moment it has
// placed its order (the front before Pebble sees its first authorization request), and writable
// again once padlock has failed to store the certificate twice. Pebble must finalize exactly one
// order; the certificate is served over HTTPS from memory from the moment it is issued, without a
// single failed request, and stored once storage can be written again.
//
// PADLOCK_TEST_UNWRITABLE_SECONDS=120 keeps storage read-only for that long instead (the figure
// the issue asks for); the behaviour is the same, only longer: the write is retried at growing
// intervals of at most a minute.
import test from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { caId, folderName } from "../../src/certificates/store-layout.js";
import { keyMatches } from "../../src/tls/pem.js";
import { readCertificate } from "../../src/tls/certificate-info.js";
import { freePort, tempDir, waitFor } from "../support/env.js";
import { startFrontedPebble } from "../support/ari-front.js";
import { httpsGet } from "../support/clients.js";
import { spawnPadlock, writeConfig, type PadlockProcess } from "../support/padlock-process.js";
import { ownMountNamespace, setReadOnly } from "../support/storage-faults.js";

const NAMES = ["blog.test", "www.blog.test"];
const holdMs = Number(process.env.PADLOCK_TEST_UNWRITABLE_SECONDS ?? 0) * 1000;

test("storage unwritable during issuance: one order, served from memory the whole time after it, stored once writable again", { timeout: holdMs + 120_000 }, async (t) => {
  let padlock: PadlockProcess | undefined;
  const work = tempDir("unwritable");
  const storage = path.join(work.dir, "data");
  mkdirSync(storage);
  let readOnlyAt: number | undefined;
  const { httpPort, pebble, front } = await startFrontedPebble(t, {
    ari: false,
    intercept: {
      before: (r) => {
        if (readOnlyAt === undefined && r.method === "POST" && r.path.startsWith("/authZ/")) {
          setReadOnly(padlock!.child.pid!, storage, true);
          readOnlyAt = Date.now();
        }
      },
    },
  });
  t.after(async () => {
    await padlock?.stop("SIGKILL");
    work.remove();
  });
  const httpsPort = await freePort();
  const configFile = writeConfig(path.join(work.dir, "padlock.yaml"), { ca: front.directoryUrl, ca_root: pebble.apiRootFile, accept_terms: true, storage, sites: [{ hosts: NAMES, redirect: "https://elsewhere.test" }] });
  padlock = spawnPadlock(["serve", "--config", configFile, "--log-format", "json", "--listen", "127.0.0.1", "--http-port", String(httpPort), "--https-port", String(httpsPort)], { prefix: ownMountNamespace(storage) });
  const root = await pebble.issuingRoot();
  const messages = () => padlock!.logLines().map((l) => String(l.msg));

  // From the first HTTPS answer on, every request must be answered, with the one certificate.
  const served = await waitFor("HTTPS", () => httpsGet("blog.test", httpsPort, root).then((a) => a.serial).catch(() => undefined), 30_000, 25);
  assert.ok(readOnlyAt !== undefined, "storage became read-only before the certificate was issued");
  const requests = { ok: 0, failed: [] as string[], serials: new Set<string>() };
  let polling = true;
  const poller = (async () => {
    while (polling) {
      await httpsGet(NAMES[requests.ok % 2]!, httpsPort, root).then(
        (a) => (requests.ok++, requests.serials.add(a.serial)),
        (err: Error) => requests.failed.push(err.message),
      );
      await new Promise((r) => setTimeout(r, 50));
    }
  })();

  const failedWrites = () => messages().filter((m) => /: could not store certificate \w+ \(attempt \d+\)/.test(m));
  await waitFor("two failed attempts to store the certificate", () => failedWrites().length >= 2, 30_000);
  if (holdMs) await new Promise((r) => setTimeout(r, Math.max(0, readOnlyAt! + holdMs - Date.now())));
  setReadOnly(padlock.child.pid!, storage, false);
  const writableAt = Date.now();
  const answeredWhileReadOnly = requests.ok;
  const stored = await waitFor("the certificate stored", () => messages().find((m) => /: stored certificate \w+ in .* after \d+ failed attempt\(s\); it was served from memory meanwhile$/.test(m)), holdMs + 90_000);
  polling = false;
  await poller;

  assert.equal(pebble.ordersPlaced(), 1, "Pebble created one order");
  assert.equal(pebble.certificatesIssued(), 1, "Pebble finalized one order");
  assert.deepEqual(requests.failed, [], "no HTTPS request failed while storage was unwritable");
  assert.deepEqual([...requests.serials], [served], "every request got the certificate issued");
  const [firstFailure] = failedWrites();
  assert.match(
    firstFailure!,
    new RegExp(`^blog\\.test, www\\.blog\\.test: could not store certificate ${served} \\(attempt 1\\): cannot write ${esc(storage)}/\\S+: EROFS \\(the file system mounted at ${esc(storage)} is read-only\\)\\. Fix: remount it read-write \\(sudo mount -o remount,rw ${esc(storage)}\\) or point storage: at a writable folder\\. It is served from memory meanwhile and nothing is ordered again; next attempt in [\\d.]+ s$`),
  );
  assert.ok(stored.includes(served));
  const folder = path.join(storage, "certificates", caId(front.directoryUrl), folderName(NAMES));
  const chain = readFileSync(path.join(folder, "cert.pem"), "utf8");
  assert.equal(readCertificate(chain).serial, served, "the served certificate is the stored one");
  assert.ok(keyMatches(chain, readFileSync(path.join(folder, "key.pem"), "utf8")));
  t.diagnostic(
    `storage read-only for ${((writableAt - readOnlyAt!) / 1000).toFixed(1)} s from the first authorization request; ` +
      `${failedWrites().length} failed attempts to store; ${answeredWhileReadOnly} HTTPS requests answered meanwhile and ${requests.ok} in all, every one with certificate ${served}; ` +
      `stored ${((Date.now() - writableAt) / 1000).toFixed(1)} s after storage was writable again; Pebble: ${pebble.ordersPlaced()} order, ${pebble.certificatesIssued()} certificate`,
  );
});

function esc(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
