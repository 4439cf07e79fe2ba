// Headless Chromium trusts padlock's HTTPS on localhost (the internal CA's certificate) once the
// root is in its NSS database: https://localhost loads with no certificate error, as a secure context. Without the root it
// refuses the same page, so the test shows the trust comes from the root (localhost counts as a
// secure context even over plain HTTP, so isSecureContext alone would prove little).
import test, { after, before } from "node:test";
import assert from "node:assert/strict";
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { InternalCa, internalCaFolder } from "../../src/tls/internal-ca.js";
import { FolderKeyFileStore } from "../../src/tls/key-files.js";
import { exampleBlogDir, packageRoot } from "../../src/paths.js";
import { createNssDb, launchChromium, tempHome, trustInNssDb } from "../support/chromium.js";
import { loadConfigIn, startPadlock, type RunningPadlock } from "../support/padlock-in-process.js";

const homeDir = tempHome();
const home = homeDir.dir;
let padlock: RunningPadlock;
let rootCertificatePath: string;

// padlock as `padlock serve` runs it with no config: the example blog on local names, with the
// internal CA's certificate on the HTTPS port.
before(async () => {
  padlock = await startPadlock(loadConfigIn(home, { storage: "padlock-data", sites: [{ hosts: ["localhost", "127.0.0.1", "::1"], blog: exampleBlogDir, default: true }] }), {
    baseDir: home,
    httpPort: 0,
  });
  rootCertificatePath = InternalCa.rootCertificatePath(new FolderKeyFileStore(internalCaFolder(path.join(home, "padlock-data"))));
});

after(async () => {
  await padlock?.close();
  homeDir.remove();
});

test("with the root in its NSS database, Chromium loads https://localhost as a secure context", async () => {
  const trustingHome = path.join(home, "trusting");
  await mkdir(trustingHome);
  await trustInNssDb(await createNssDb(trustingHome), rootCertificatePath);
  const browser = await launchChromium(trustingHome);
  try {
    const page = await browser.newPage();
    const response = await page.goto(`https://localhost:${padlock.httpsPort}/`);
    assert.equal(response?.status(), 200);
    assert.equal(await page.evaluate(() => window.isSecureContext), true);
    assert.match(await page.title(), /padlock example blog/);
    const security = await response!.securityDetails();
    assert.match(security?.issuer ?? "", /padlock local intermediate/);
    assert.equal(security?.subjectName, "localhost");
    const artifacts = path.join(packageRoot, "test-artifacts");
    await mkdir(artifacts, { recursive: true });
    await page.screenshot({ path: path.join(artifacts, "internal-ca-localhost.png") });
  } finally {
    await browser.close();
  }
});

test("without the root, Chromium refuses the same certificate", async () => {
  const plainHome = path.join(home, "plain");
  await mkdir(plainHome);
  await createNssDb(plainHome);
  const browser = await launchChromium(plainHome);
  try {
    const page = await browser.newPage();
    await assert.rejects(page.goto(`https://localhost:${padlock.httpsPort}/`), /ERR_CERT_AUTHORITY_INVALID/);
  } finally {
    await browser.close();
  }
});
