// Headless Chromium trusts a leaf from the internal CA once the root is in its NSS database:
// https://localhost loads with no certificate error, as a secure context. Without the root it
// refuses the same page, so the test shows the trust comes from the root (localhost counts as a
// secure context even over plain HTTP, so isSecureContext alone would prove little).
import test, { after, before } from "node:test";
import assert from "node:assert/strict";
import { mkdir, rm } from "node:fs/promises";
import path from "node:path";
import { InternalCa, LOCAL_NAMES } from "../../src/tls/internal-ca.js";
import { FolderKeyFileStore } from "../../src/tls/key-files.js";
import { packageRoot } from "../../src/paths.js";
import { createNssDb, launchChromium, tempHome, trustInNssDb } from "../support/chromium.js";
import { startHttpsServer, type TestHttpsServer } from "../support/https-server.js";

let home: string;
let ca: InternalCa;
let server: TestHttpsServer;

before(async () => {
  home = await tempHome();
  ca = await InternalCa.open(new FolderKeyFileStore(path.join(home, "padlock-ca")));
  const leaf = await ca.issue(LOCAL_NAMES);
  server = await startHttpsServer({ chainPem: leaf.chainPem, keyPem: leaf.keyPem, host: "127.0.0.1" });
});

after(async () => {
  await server?.close();
  if (home) await rm(home, { recursive: true, force: true });
});

test("with the root in its NSS database, Chromium loads https://localhost as a secure context", async () => {
  const trustingHome = path.join(home, "trusting");
  await mkdir(trustingHome);
  await trustInNssDb(await createNssDb(trustingHome), ca.rootCertificatePath);
  const browser = await launchChromium(trustingHome);
  try {
    const page = await browser.newPage();
    const response = await page.goto(`https://localhost:${server.port}/`);
    assert.equal(response?.status(), 200);
    assert.equal(await page.evaluate(() => window.isSecureContext), true);
    assert.equal(await page.textContent("h1"), "served over HTTPS");
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
    await assert.rejects(page.goto(`https://localhost:${server.port}/`), /ERR_CERT_AUTHORITY_INVALID/);
  } finally {
    await browser.close();
  }
});
