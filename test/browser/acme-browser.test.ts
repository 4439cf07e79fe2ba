// A real browser: headless Chromium trusting Pebble's root through its NSS database, with the
// test names mapped to 127.0.0.1, loads the site by name over HTTPS: a secure context, no
// certificate error. The screenshot is kept under test-artifacts/.
import test from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { freePort, tempDir, waitFor } from "../support/env.js";
import { startPebble } from "../support/pebble.js";
import { loadConfigIn, startPadlock } from "../support/padlock-in-process.js";

const artifacts = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../test-artifacts");

test("Chromium loads https://blog.test with a Pebble-issued certificate as a secure context", async (t) => {
  const httpPort = await freePort();
  const pebble = await startPebble({ httpPort });
  t.after(() => pebble.stop());
  const work = tempDir("browser");
  t.after(() => work.remove());
  mkdirSync(path.join(work.dir, "site"));
  const p = await startPadlock(loadConfigIn(work.dir, { ca: pebble.directoryUrl, ca_root: pebble.apiRootFile, accept_terms: true, storage: "data", sites: [{ hosts: ["blog.test", "www.blog.test"], static: "site" }] }), { baseDir: work.dir, httpPort });
  t.after(() => p.close());
  await waitFor("the certificate", () => p.padlock.certificateManager!.status()[0]!.serial, 30_000);

  // Pebble's root in an NSS database of a throwaway HOME, where Chromium on Linux looks.
  const home = path.join(work.dir, "home");
  const nssdb = path.join(home, ".pki", "nssdb");
  mkdirSync(nssdb, { recursive: true });
  const rootFile = path.join(work.dir, "pebble-root.pem");
  writeFileSync(rootFile, await pebble.issuingRoot());
  execFileSync("certutil", ["-d", `sql:${nssdb}`, "-N", "--empty-password"]);
  execFileSync("certutil", ["-d", `sql:${nssdb}`, "-A", "-t", "C,,", "-n", "pebble-test-root", "-i", rootFile]);

  const browser = await chromium.launchPersistentContext(path.join(work.dir, "profile"), {
    executablePath: "/usr/bin/chromium",
    headless: true,
    env: { ...process.env, HOME: home },
    args: [
      "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
      `--host-resolver-rules=MAP blog.test 127.0.0.1, MAP www.blog.test 127.0.0.1`,
    ],
  });
  // Closed before the after-hooks remove the folder holding its profile.
  try {
    const page = await browser.newPage();
    const response = await page.goto(`https://blog.test:${p.httpsPort}/`);
    assert.ok(response, "the page loaded (a certificate error would have thrown)");
    const security = await response.securityDetails();
    assert.match(security?.issuer ?? "", /Pebble/);
    assert.equal(await page.evaluate(() => window.isSecureContext), true);
    assert.equal(new URL(page.url()).protocol, "https:");
    mkdirSync(artifacts, { recursive: true });
    // Straight from the DevTools protocol: Playwright's screenshot() waits on web fonts, which can
    // take minutes with a fresh HOME under the test runner.
    const cdp = await browser.newCDPSession(page);
    const shot = (await cdp.send("Page.captureScreenshot", { format: "png" })) as { data: string };
    writeFileSync(path.join(artifacts, "acme-browser-blog.test.png"), Buffer.from(shot.data, "base64"));
  } finally {
    await browser.close();
  }
});
