// A config reload (what SIGHUP does) is start-up for what changed: a site added gets its
// certificate without a restart, a site removed is no longer renewed (its files stay), a site
// whose names change gets a certificate for the new set. The log says which, one line each.
import test from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import path from "node:path";
import { caId, folderName } from "../../src/certificates/store-layout.js";
import { tempDir, waitFor } from "../support/env.js";
import { startFrontedPebble } from "../support/ari-front.js";
import { FakeClock } from "../support/fake-clock.js";
import { httpsGet } from "../support/clients.js";
import { loadConfigIn, startPadlock } from "../support/padlock-in-process.js";

test("reload: a site added is obtained at once, a site removed is no longer renewed, changed names are ordered; each said in the log", async (t) => {
  const { httpPort, pebble, front } = await startFrontedPebble(t, { ari: false });
  const work = tempDir("reload-certificates");
  t.after(() => work.remove());
  const clock = new FakeClock();
  const site = (hosts: string[]) => ({ hosts, redirect: "https://elsewhere.test" });
  const config = (...sites: string[][]) => loadConfigIn(work.dir, { ca: front.directoryUrl, ca_root: pebble.apiRootFile, accept_terms: true, storage: "data", sites: sites.map(site) });
  const p = await startPadlock(config(["blog.test"]), { baseDir: work.dir, httpPort, tuning: { clock, random: () => 0.5 } });
  t.after(() => p.close());
  const manager = p.padlock.certificateManager!;
  const root = await pebble.issuingRoot();
  const stored = (names: string[]) => (s: { names: string[]; serial?: string; unsaved: boolean; nextRenewal?: unknown }[]) =>
    s.find((x) => x.names.join() === names.join() && x.serial && !x.unsaved && x.nextRenewal);
  await waitFor("blog.test's certificate", () => stored(["blog.test"])(manager.status()), 30_000);
  const reloadLines = () => p.messages().filter((m) => m.startsWith("config reload:"));

  // Added: obtained as at start-up, served without a restart.
  await p.padlock.reload(config(["blog.test"], ["shop.test"]));
  assert.deepEqual(reloadLines(), ["config reload: shop.test: new in the config; obtaining its certificate as at start-up"]);
  const shop = await waitFor("shop.test's certificate", () => stored(["shop.test"])(manager.status()), 30_000);
  assert.equal((await httpsGet("shop.test", p.httpsPort, root)).serial, shop.serial);

  // Removed: no longer renewed, its files stay.
  await p.padlock.reload(config(["blog.test"]));
  const shopFolder = path.join(work.dir, "data", "certificates", caId(front.directoryUrl), folderName(["shop.test"]));
  assert.equal(reloadLines()[1], `config reload: shop.test: no longer in the config; its certificate is no longer renewed (its files stay in ${shopFolder})`);
  assert.deepEqual(manager.status().map((s) => s.names.join()), ["blog.test"]);
  const ordersBefore = front.orders().length;
  const shopRenewal = (shop.nextRenewal as { at: Date }).at.getTime();
  clock.advance(shopRenewal - clock.now() + 60_000);
  clock.set(Date.now());
  // blog.test's renewal came due at about the same time: once it is done, shop.test would have been too.
  await waitFor("blog.test's renewal", () => front.orders().length > ordersBefore && stored(["blog.test"])(manager.status()), 30_000);
  const ordered = front.orders().slice(ordersBefore).map((o) => (o.identifiers as { value: string }[]).map((i) => i.value).join());
  assert.deepEqual(ordered, ["blog.test"], "nothing ordered for the removed site");
  assert.ok(existsSync(path.join(shopFolder, "cert.pem")), "the removed site's files stay");

  // Names changed: the new set is ordered, the old one no longer renewed.
  await p.padlock.reload(config(["blog.test", "www.blog.test"]));
  assert.equal(
    reloadLines()[2],
    `config reload: names changed from [blog.test] to [blog.test, www.blog.test]: ordering a certificate for the new set; the old one is no longer renewed (its files stay in ${path.join(work.dir, "data", "certificates", caId(front.directoryUrl), "blog.test")})`,
  );
  const both = await waitFor("the certificate for the new set", () => stored(["blog.test", "www.blog.test"])(manager.status()), 30_000);
  assert.equal((await httpsGet("www.blog.test", p.httpsPort, root)).serial, both.serial);
  assert.equal(reloadLines().length, 3);
});
