// ARI (RFC 9773) through a front that adds it to Pebble 2.4: renewal inside the window the CA
// suggests, `replaces` naming the old certificate (checked against openssl's reading of it),
// the lifetime rule when ARI fails; and profiles the CA advertises.
import test from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { freePort, tempDir, waitFor } from "../support/env.js";
import { startPebble, type Pebble } from "../support/pebble.js";
import { startAcmeFront, type FrontOptions } from "../support/ari-front.js";
import { FakeClock } from "../support/fake-clock.js";
import { loadConfigIn, startPadlock } from "../support/padlock-in-process.js";
import type { CertificateTuning } from "../../src/certificates/start-certificates.js";

const DAY = 86400_000;
const site = (tls: Record<string, unknown> = {}) => ({ hosts: ["blog.test", "www.blog.test"], redirect: "https://elsewhere.test", tls });

async function setup(t: test.TestContext, front: FrontOptions, siteTls: Record<string, unknown> = {}, tuning?: CertificateTuning, sites = [site(siteTls)]) {
  const httpPort = await freePort();
  const pebble: Pebble = await startPebble({ httpPort });
  t.after(() => pebble.stop());
  const acmeFront = await startAcmeFront(pebble, front);
  t.after(() => acmeFront.stop());
  const work = tempDir("ari");
  t.after(() => work.remove());
  const p = await startPadlock(loadConfigIn(work.dir, { ca: acmeFront.directoryUrl, ca_root: pebble.apiRootFile, accept_terms: true, storage: "data", sites }), { baseDir: work.dir, httpPort, tuning });
  t.after(() => p.close());
  return { p, front: acmeFront, manager: p.padlock.certificateManager!, work };
}

/** RFC 9773 §4.1 certificate ID, computed from openssl's reading of the stored certificate. */
function ariIdByOpenssl(dir: string): string {
  const root = path.join(dir, "data", "certificates");
  const ca = path.join(root, readdirSync(root)[0]!);
  const file = path.join(ca, readdirSync(ca)[0]!, "cert.pem");
  const text = execFileSync("openssl", ["x509", "-noout", "-serial", "-ext", "authorityKeyIdentifier", "-in", file], { encoding: "utf8" });
  const serialHex = /serial=([0-9A-F]+)/.exec(text)![1]!;
  const aki = /keyid:([0-9A-F:]+)|\n\s+([0-9A-F]{2}(?::[0-9A-F]{2})+)/.exec(text)!;
  const akiHex = (aki[1] ?? aki[2]!).replace(/:/g, "");
  const serialBytes = Buffer.from(serialHex.length % 2 ? "0" + serialHex : serialHex, "hex");
  const der = serialBytes[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), serialBytes]) : serialBytes;
  assert.equal(readFileSync(file, "utf8").includes("BEGIN CERTIFICATE"), true);
  return `${Buffer.from(akiHex, "hex").toString("base64url")}.${der.toString("base64url")}`;
}

test("renews inside the CA's ARI window, sending `replaces`", async (t) => {
  const clock = new FakeClock();
  const start = clock.now();
  const window1 = { start: new Date(start + 10 * DAY), end: new Date(start + 11 * DAY) };
  let firstId: string | undefined;
  const { p, front, manager, work } = await setup(
    t,
    {
      window: (id) => {
        firstId ??= id;
        return id === firstId ? window1 : { start: new Date(Date.now() + 1000 * DAY), end: new Date(Date.now() + 1001 * DAY) };
      },
    },
    {},
    { clock, random: () => 0.5 },
  );
  const planned = await waitFor("an ARI plan", () => manager.status()[0]!.nextRenewal?.reason === "ari-window" && manager.status()[0]!, 30_000);
  assert.equal(planned.nextRenewal!.at.getTime(), start + 10.5 * DAY, "the middle of the window (random 0.5)");
  assert.equal(firstId, ariIdByOpenssl(work.dir), "the ARI id padlock asked about is the certificate's");
  assert.ok(p.messages().some((m) => /next renewal .* \(inside the CA's ARI window/.test(m)));

  clock.advance(10 * DAY);
  assert.equal(front.orders().length, 1, "inside the window but before the chosen moment: no order yet");
  clock.advance(DAY);
  const renewed = await waitFor("the renewal", () => manager.status()[0]!.serial !== planned.serial && manager.status()[0]!.nextRenewal && manager.status()[0]!, 30_000);
  assert.equal(front.orders().length, 2);
  assert.equal(front.orders()[1]!.replaces, firstId, "the new order names the certificate it replaces");
  assert.equal(renewed.nextRenewal!.reason, "ari-window");
  assert.ok(renewed.nextRenewal!.at.getTime() > Date.now() + 999 * DAY);
});

test("ARI failing: the lifetime rule decides, and the log says why", async (t) => {
  const { p, manager, front } = await setup(t, { window: () => "error" });
  const planned = await waitFor("a plan", () => manager.status()[0]!.nextRenewal, 30_000);
  assert.equal(planned.reason, "expiring");
  assert.ok(front.ariQueries.length >= 1, "ARI was asked");
  assert.ok(p.messages().some((m) => /renewal information \(ARI\) is unavailable \(the CA's renewal information \(ARI\) answered HTTP 500\); falling back to 2\/3 of the lifetime/.test(m)));
});

test("ARI failing for every name set: one line, and a minute later the count of the others", async (t) => {
  const clock = new FakeClock(Date.now());
  const sites = ["a", "b", "c"].map((name) => ({ hosts: [`${name}.blog.test`], redirect: "https://elsewhere.test", tls: {} }));
  const { p, manager, front } = await setup(t, { window: () => "error" }, {}, { clock }, sites);
  await waitFor("a plan for every name set", () => manager.status().every((s) => s.nextRenewal), 30_000);
  assert.equal(front.ariQueries.length, 3, "each certificate's renewal information was asked for");
  const unavailable = () => p.messages().filter((m) => /renewal information \(ARI\) is unavailable/.test(m));
  assert.equal(unavailable().length, 1, unavailable().join("\n"));
  clock.advance(60_000);
  await waitFor("the count of the lines held back", () => p.messages().some((m) => /^2 more like this in the last 60 s, not logged: .*\(ARI\) is unavailable .*answered HTTP 500/.test(m)), 5_000);
});

test("a profile the CA advertises is requested in the order; one it does not is refused before any order", async (t) => {
  const profiles = { classic: "the usual", shortlived: "6 days" };
  const { manager, front } = await setup(t, { profiles, ari: false }, { profile: "shortlived" });
  await waitFor("the certificate", () => manager.status()[0]!.serial, 30_000);
  assert.equal(front.orders()[0]!.profile, "shortlived");

  const httpPort = await freePort();
  const pebble = await startPebble({ httpPort });
  t.after(() => pebble.stop());
  const other = await startAcmeFront(pebble, { profiles, ari: false });
  t.after(() => other.stop());
  const work = tempDir("profile");
  t.after(() => work.remove());
  await assert.rejects(
    startPadlock(loadConfigIn(work.dir, { ca: other.directoryUrl, ca_root: pebble.apiRootFile, accept_terms: true, storage: "data", sites: [site({ profile: "tinylived" })] }), { baseDir: work.dir, httpPort }),
    /does not offer the profile "tinylived"; it offers classic, shortlived/,
  );
  assert.equal(other.orders().length, 0);
});
