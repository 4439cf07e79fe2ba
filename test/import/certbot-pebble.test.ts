// certbot itself obtains certificates from Pebble (two lineages of one name set, as the seed's
// dummy-certificate mistake leaves them, and another site); `padlock import certbot --apply`
// moves them and certbot's account into padlock's storage; padlock serves them without a new
// order; a forced renewal is ordered by certbot's account and replaces the imported certificate.
import test from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { startFrontedPebble } from "../support/ari-front.js";
import { certbotCertonly } from "../support/certbot.js";
import { httpsGet } from "../support/clients.js";
import { freePort, tempDir, waitFor } from "../support/env.js";
import { runPadlock, spawnPadlock, writeConfig } from "../support/padlock-process.js";
import { readCertificate } from "../../src/tls/certificate-info.js";
import { snapshotFolder, walkFolder } from "./folder-snapshot.js";

const DAY = 86_400_000;
const BLOG = ["blog.test", "www.blog.test"];
const NEW_ORDER = "/order-plz";
const NEW_ACCOUNT = "/sign-me-up";

test("certbot's certificates and account move into padlock: nothing is ordered, and a forced renewal continues certbot's account", async (t) => {
  // ARI offered, with a window far away: nothing is due on its own.
  const { httpPort, pebble, front } = await startFrontedPebble(t, { window: () => ({ start: new Date(Date.now() + 300 * DAY), end: new Date(Date.now() + 301 * DAY) }) });
  const work = tempDir("certbot-import");
  t.after(() => work.remove());
  const configDir = path.join(work.dir, "letsencrypt");
  const certbot = { server: front.directoryUrl, caBundle: pebble.apiRootFile, httpPort, configDir };
  await certbotCertonly(certbot, BLOG.flatMap((n) => ["-d", n]));
  await certbotCertonly(certbot, ["--duplicate", ...BLOG.flatMap((n) => ["-d", n])]);
  await certbotCertonly(certbot, ["-d", "other.test"]);
  assert.deepEqual(readdirSync(path.join(configDir, "renewal")).sort(), ["blog.test-0001.conf", "blog.test.conf", "other.test.conf"]);
  const ordersByCertbot = await waitFor("Pebble to log certbot's 3 orders", () => pebble.ordersPlaced() === 3 && 3);
  const regr = walkFolder(path.join(configDir, "accounts")).filter((f) => f.endsWith("/regr.json"));
  assert.equal(regr.length, 1, "certbot registered one account");
  const certbotAccount = (JSON.parse(readFileSync(path.join(configDir, "accounts", regr[0]!), "utf8")) as { uri: string }).uri;
  const newest = readCertificate(readFileSync(path.join(configDir, "live", "blog.test-0001", "fullchain.pem"), "utf8"));
  const older = readCertificate(readFileSync(path.join(configDir, "live", "blog.test", "fullchain.pem"), "utf8"));
  const other = readCertificate(readFileSync(path.join(configDir, "live", "other.test", "fullchain.pem"), "utf8"));
  const certbotFiles = snapshotFolder(configDir);

  const www = path.join(work.dir, "www");
  mkdirSync(www);
  writeFileSync(path.join(www, "index.html"), "moved in\n");
  const httpsPort = await freePort();
  const file = writeConfig(path.join(work.dir, "padlock.yaml"), {
    ca: front.directoryUrl,
    ca_root: pebble.apiRootFile,
    accept_terms: true,
    storage: "data",
    listen: "127.0.0.1",
    http_port: httpPort,
    https_port: httpsPort,
    sites: [{ hosts: BLOG, static: www }, { hosts: ["other.test"], static: www }],
  });

  const plan = await runPadlock(["import", "certbot", configDir, "--config", file]);
  assert.equal(plan.code, 0, plan.stderr);
  assert.match(plan.stdout, new RegExp(`account   import certbot's account \\w+: ${certbotAccount}`));
  assert.match(plan.stdout, new RegExp(`import    blog.test, www.blog.test\\n +from lineage blog.test-0001 \\(archive/blog.test-0001/fullchain1.pem\\): serial ${newest.serial}`));
  assert.match(plan.stdout, new RegExp(`import    other.test\\n +from lineage other.test .*serial ${other.serial}`));
  assert.match(plan.stdout, new RegExp(`leftover  blog.test: an older certificate \\(serial ${older.serial}.*\\n +delete it with: certbot delete --cert-name blog.test --config-dir ${configDir}\\n`));
  assert.match(plan.stdout, /Nothing was written\. Run again with --apply/);
  assert.equal(existsSync(path.join(work.dir, "data")), false, "the plan alone writes nothing, not even the storage folder");

  const applied = await runPadlock(["import", "certbot", configDir, "--config", file, "--apply"]);
  assert.equal(applied.code, 0, applied.stderr);
  assert.match(applied.stdout, /Written:\n  account .*\n  blog.test, www.blog.test: certificate \w+ from blog.test-0001 → .*\n  other.test: certificate \w+ from other.test → /);
  assert.deepEqual(snapshotFolder(configDir), certbotFiles, "certbot's folder is exactly as it was");

  const requestsBefore = front.requests.length;
  const padlock = spawnPadlock(["serve", "--config", file, "--log-format", "json"]);
  t.after(() => padlock.stop());
  await padlock.serving();
  const root = await pebble.issuingRoot();
  for (const [name, serial] of [...BLOG.map((n) => [n, newest.serial]), ["other.test", other.serial]] as const) {
    const answer = await httpsGet(name, httpsPort, root);
    assert.equal(answer.status, 200);
    assert.equal(answer.serial, serial, `${name} is served certbot's newest certificate for it`);
  }
  await waitFor("both renewals planned in the ARI window", () => padlock.logLines().filter((l) => /next renewal .* \(inside the CA's ARI window/.test(String(l.msg))).length === 2);
  assert.equal(pebble.ordersPlaced(), ordersByCertbot, "Pebble saw no new order");
  assert.equal(front.requests.slice(requestsBefore).filter((r) => r.path === NEW_ACCOUNT || r.path === NEW_ORDER).length, 0, "no new account, no new order");
  assert.ok(padlock.logLines().some((l) => String(l.msg).includes(`installed certificate ${newest.serial} (from storage)`)));

  const renewed = await runPadlock(["certs", "renew", "blog.test", "--force", "--config", file]);
  assert.equal(renewed.code, 0, renewed.stderr + renewed.stdout);
  assert.equal(pebble.ordersPlaced(), ordersByCertbot + 1);
  const order = front.requests.filter((r) => r.path === NEW_ORDER).at(-1)!;
  assert.equal(order.kid, certbotAccount, "the renewal is ordered by certbot's account");
  assert.equal(order.payload?.replaces, newest.ariId, "and names the imported certificate as the one it replaces (ARI)");
  assert.equal(front.requests.slice(requestsBefore).filter((r) => r.path === NEW_ACCOUNT).length, 0, "padlock registered no account of its own");
  const served = await httpsGet("blog.test", httpsPort, root);
  assert.notEqual(served.serial, newest.serial, "the renewed certificate is served");
});
