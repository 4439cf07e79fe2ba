// Damaged files in storage, made for real (a truncated key, a key that belongs to another
// certificate, a chain cut off or out of order, JSON that does not parse, a garbage account
// key): each is named in one ERROR line with what is wrong and what padlock does, moved aside to
// <file>.damaged-<UTC time> (never deleted), and recovered from — within the order budget, and
// without holding up start-up or the other sites.
import test, { after, before } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { createPrivateKey } from "../../src/tls/pem.js";
import { caId, folderName } from "../../src/certificates/store-layout.js";
import { splitChain } from "../../src/tls/certificate-info.js";
import { freePort, tempDir, waitFor } from "../support/env.js";
import { startPebble, type Pebble } from "../support/pebble.js";
import { startAcmeFront, type AcmeFront } from "../support/ari-front.js";
import { httpsGet } from "../support/clients.js";
import { loadConfigIn, startPadlock, type LogLine, type RunningPadlock } from "../support/padlock-in-process.js";

const BLOG = ["blog.test", "www.blog.test"];
const SHOP = ["shop.test"];
const ERROR = 50;
let httpPort: number;
let pebble: Pebble;
let front: AcmeFront;

before(async () => {
  httpPort = await freePort();
  pebble = await startPebble({ httpPort });
  front = await startAcmeFront(pebble, { ari: false });
});
after(async () => {
  await front.stop();
  await pebble.stop();
});

interface Stored {
  work: { dir: string; remove: () => void };
  config: Record<string, unknown>;
  /** The set's folder on disk. */
  folder(names: string[]): string;
  serials: Map<string, string>;
}

/** Both sites' certificates obtained and stored by a padlock that then stopped. */
async function storedCertificates(t: test.TestContext, name: string): Promise<Stored> {
  const work = tempDir(name);
  t.after(() => work.remove());
  const config = {
    ca: front.directoryUrl,
    ca_root: pebble.apiRootFile,
    accept_terms: true,
    storage: "data",
    sites: [BLOG, SHOP].map((hosts) => ({ hosts, redirect: "https://elsewhere.test" })),
  };
  const p = await startPadlock(loadConfigIn(work.dir, config), { baseDir: work.dir, httpPort });
  const manager = p.padlock.certificateManager!;
  await waitFor("both certificates stored", () => manager.status().every((s) => s.serial && !s.unsaved), 30_000);
  const serials = new Map(manager.status().map((s) => [s.names[0]!, s.serial!]));
  await p.close();
  const folder = (names: string[]) => path.join(work.dir, "data", "certificates", caId(front.directoryUrl), folderName(names));
  return { work, config, folder, serials };
}

function damagedLines(p: RunningPadlock): LogLine[] {
  return p.logs.filter((l) => l.level === ERROR && l.msg.startsWith("damaged file "));
}

/** The one copy set aside beside `file`, by its name pattern. */
function copyOf(file: string): string {
  const copies = readdirSync(path.dirname(file)).filter((f) => f.startsWith(`${path.basename(file)}.damaged-`));
  assert.equal(copies.length, 1, `one copy of ${file} set aside, found ${copies.join(", ")}`);
  assert.match(copies[0]!, /\.damaged-\d{8}T\d{6}\.\d{3}Z$/);
  return path.join(path.dirname(file), copies[0]!);
}

async function servedSerial(p: RunningPadlock, name: string): Promise<string> {
  return (await httpsGet(name, p.httpsPort, await pebble.issuingRoot())).serial;
}

test("a truncated key.pem: one ERROR line names it and what padlock does, the copy is kept, a new certificate is ordered; the other site is untouched", async (t) => {
  const stored = await storedCertificates(t, "damaged-key");
  const key = path.join(stored.folder(BLOG), "key.pem");
  const cert = path.join(stored.folder(BLOG), "cert.pem");
  const truncated = readFileSync(key, "utf8").slice(0, 100);
  writeFileSync(key, truncated);
  const ordersBefore = pebble.ordersPlaced();

  // Start-up does not fail (it threw ERR_OSSL_UNSUPPORTED from the certificate cache).
  const p = await startPadlock(loadConfigIn(stored.work.dir, stored.config), { baseDir: stored.work.dir, httpPort });
  t.after(() => p.close());
  const manager = p.padlock.certificateManager!;
  assert.equal(manager.status()[1]!.serial, stored.serials.get("shop.test"), "the healthy site is installed from storage during start-up");
  const renewed = await waitFor("a new certificate for the damaged set", () => !manager.status()[0]!.unsaved && manager.status()[0]!.serial, 30_000);
  assert.notEqual(renewed, stored.serials.get("blog.test"));

  const lines = damagedLines(p);
  assert.equal(lines.length, 2, lines.map((l) => l.msg).join("\n"));
  assert.match(lines[0]!.msg, new RegExp(`^damaged file ${esc(cert)}: it cannot be used without its damaged key\\.pem; moved aside to ${esc(cert)}\\.damaged-\\S+; ordering a new certificate \\(renewal reason: key-damaged\\)$`));
  assert.match(lines[1]!.msg, new RegExp(`^damaged file ${esc(key)}: not a readable private key \\(truncated, or not PEM: .+\\); moved aside to ${esc(copyOf(key))}; ordering a new certificate \\(renewal reason: key-damaged\\)$`));
  assert.equal(readFileSync(copyOf(key), "utf8"), truncated, "the damaged file is kept as it was");
  assert.ok(p.messages().some((m) => /^blog\.test, www\.blog\.test: ordering a certificate from .* \(renewal reason: key-damaged\)$/.test(m)));
  assert.equal(pebble.ordersPlaced() - ordersBefore, 1, "one order, for the damaged set only");
  assert.equal(await servedSerial(p, "www.blog.test"), renewed);
  assert.equal(await servedSerial(p, "shop.test"), stored.serials.get("shop.test"));
});

test("a key that belongs to another certificate: both files are named and set aside, and the set gets a new pair", async (t) => {
  const stored = await storedCertificates(t, "mismatched-key");
  const key = path.join(stored.folder(SHOP), "key.pem");
  const cert = path.join(stored.folder(SHOP), "cert.pem");
  const otherKey = createPrivateKey("ecdsa-p256");
  writeFileSync(key, otherKey);

  const p = await startPadlock(loadConfigIn(stored.work.dir, stored.config), { baseDir: stored.work.dir, httpPort });
  t.after(() => p.close());
  const manager = p.padlock.certificateManager!;
  const renewed = await waitFor("a new certificate", () => !manager.status()[1]!.unsaved && manager.status()[1]!.serial, 30_000);
  assert.notEqual(renewed, stored.serials.get("shop.test"));
  assert.deepEqual(
    damagedLines(p).map((l) => l.msg.replace(/\.damaged-\S+;/, ".damaged-…;")),
    [
      `damaged file ${key}: it does not match the certificate in cert.pem; moved aside to ${key}.damaged-…; ordering a new certificate (renewal reason: key-damaged)`,
      `damaged file ${cert}: its key (key.pem) does not match it; moved aside to ${cert}.damaged-…; ordering a new certificate (renewal reason: key-damaged)`,
    ],
  );
  assert.equal(readFileSync(copyOf(key), "utf8"), otherKey);
  assert.equal(await servedSerial(p, "shop.test"), renewed);
  assert.equal(manager.status()[0]!.serial, stored.serials.get("blog.test"));
});

test("a chain cut off, and a chain out of order: each named with what is wrong", async (t) => {
  const stored = await storedCertificates(t, "damaged-chains");
  const blogCert = path.join(stored.folder(BLOG), "cert.pem");
  const shopCert = path.join(stored.folder(SHOP), "cert.pem");
  const blogChain = readFileSync(blogCert, "utf8");
  writeFileSync(blogCert, blogChain.slice(0, blogChain.lastIndexOf("-----END CERTIFICATE-----") - 40));
  const [leaf, intermediate] = splitChain(readFileSync(shopCert, "utf8"));
  writeFileSync(shopCert, `${intermediate}\n${leaf}\n`);

  const p = await startPadlock(loadConfigIn(stored.work.dir, stored.config), { baseDir: stored.work.dir, httpPort });
  t.after(() => p.close());
  const manager = p.padlock.certificateManager!;
  await waitFor("new certificates for both", () => manager.status().every((s) => s.serial && !s.unsaved && s.serial !== stored.serials.get(s.names[0]!)), 30_000);
  const problems = damagedLines(p).filter((l) => l.msg.includes("/cert.pem:")).map((l) => l.msg.replace(/; moved aside.*/, ""));
  assert.deepEqual(problems.sort(), [`damaged file ${blogCert}: its last certificate is cut off (truncated)`, `damaged file ${shopCert}: the chain is out of order: certificate 2 did not issue certificate 1`].sort());
});

test("meta.json and status.json that do not parse are set aside and written again, without a new order", async (t) => {
  const stored = await storedCertificates(t, "damaged-json");
  const meta = path.join(stored.folder(BLOG), "meta.json");
  const status = path.join(stored.folder(BLOG), "status.json");
  writeFileSync(meta, '{"names": ["blog.test"');
  writeFileSync(status, "not json");
  const ordersBefore = pebble.ordersPlaced();

  const p = await startPadlock(loadConfigIn(stored.work.dir, stored.config), { baseDir: stored.work.dir, httpPort });
  t.after(() => p.close());
  await waitFor("both set aside", () => damagedLines(p).length === 2 && existsSync(meta) && existsSync(status), 10_000);
  const lines = damagedLines(p).map((l) => l.msg.replace(/\.damaged-\S+;/, ".damaged-…;"));
  assert.ok(lines.includes(`damaged file ${meta}: not JSON (${jsonError('{"names": ["blog.test"')}); moved aside to ${meta}.damaged-…; writing it again from the certificate`), lines.join("\n"));
  assert.ok(lines.includes(`damaged file ${status}: not JSON (${jsonError("not json")}); moved aside to ${status}.damaged-…; starting a new status record (renewal plan, failures, rate limits)`), lines.join("\n"));
  assert.deepEqual((JSON.parse(readFileSync(meta, "utf8")) as { names: string[] }).names, BLOG);
  assert.equal(p.padlock.certificateManager!.status()[0]!.serial, stored.serials.get("blog.test"));
  assert.equal(pebble.ordersPlaced(), ordersBefore, "no order");
});

test("a damaged account key: named, set aside, and a new account is created, said so; certificates keep coming", async (t) => {
  const work = tempDir("damaged-account");
  t.after(() => work.remove());
  const config = { ca: front.directoryUrl, ca_root: pebble.apiRootFile, accept_terms: true, storage: "data", sites: [{ hosts: SHOP, redirect: "https://elsewhere.test" }] };
  const accountFolder = path.join(work.dir, "data", "accounts", caId(front.directoryUrl));
  const accountKey = path.join(accountFolder, "account.key");
  const first = await startPadlock(loadConfigIn(work.dir, config), { baseDir: work.dir, httpPort });
  await waitFor("the certificate stored", () => !first.padlock.certificateManager!.status()[0]!.unsaved && first.padlock.certificateManager!.status()[0]!.serial, 30_000);
  await first.close();
  const oldAccount = (JSON.parse(readFileSync(path.join(accountFolder, "account.json"), "utf8")) as { url: string }).url;
  writeFileSync(accountKey, "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg\n");

  const p = await startPadlock(loadConfigIn(work.dir, config), { baseDir: work.dir, httpPort });
  t.after(() => p.close());
  const manager = p.padlock.certificateManager!;
  await manager.renew(SHOP, { force: true });
  const [line] = damagedLines(p);
  assert.match(line!.msg, new RegExp(`^damaged file ${esc(accountKey)}: not a readable private key \\(truncated, or not PEM: .+\\); moved aside to ${esc(copyOf(accountKey))}; creating a new ACME account with a new key \\(the account registered with the damaged key cannot be used without it\\)$`));
  const newAccount = (JSON.parse(readFileSync(path.join(accountFolder, "account.json"), "utf8")) as { url: string }).url;
  assert.notEqual(newAccount, oldAccount, "a new account");
  assert.equal(manager.status()[0]!.failures, 0);
  assert.equal(await servedSerial(p, "shop.test"), manager.status()[0]!.serial);
});

function esc(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

function jsonError(text: string): string {
  try {
    JSON.parse(text);
  } catch (err) {
    return (err as Error).message;
  }
  return "";
}
