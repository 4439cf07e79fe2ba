// What the certbot import decides and writes, on certbot folders laid out by hand for what
// certbot cannot be asked to make: expired, revoked (the CA's CRL, served here) and mismatched
// pairs, staging beside production, the dummy certificate an init script leaves, a key type the
// site does not ask for, storage that already holds certificates; and the command itself.
import test, { after, before } from "node:test";
import assert from "node:assert/strict";
import { createPrivateKey as nodeKey } from "node:crypto";
import { chmodSync, chownSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { KNOWN_CAS } from "../../src/config/certificate-source.js";
import { createPrivateKey } from "../../src/tls/pem.js";
import { caId, setFolder } from "../../src/certificates/store-layout.js";
import { readSet, switchIn } from "../../src/certificates/stored-set.js";
import type { Config } from "../../src/config/schema.js";
import { readCertbotFolder } from "../../src/import/certbot-folder.js";
import { planImport, type ImportPlan } from "../../src/import/certbot-plan.js";
import { checkRevocation } from "../../src/import/revocation.js";
import { CertificateStore } from "../../src/certificates/certificate-store.js";
import { FsStorage } from "../../src/storage/fs-storage.js";
import { lookupUser } from "../../src/system/users.js";
import { readCertificate } from "../../src/tls/certificate-info.js";
import { TestCa, writeAccount, writeLineage } from "../support/certbot.js";
import { captureLog, tempDir } from "../support/env.js";
import { runPadlock, writeConfig } from "../support/padlock-process.js";
import { snapshotFolder } from "./folder-snapshot.js";

const PRODUCTION = KNOWN_CAS.letsencrypt!.directoryUrl;
const STAGING = KNOWN_CAS["letsencrypt-staging"]!.directoryUrl;
const DAY = 86_400_000;
const NAMES = ["example.com", "www.example.com"];

let ca: TestCa;
let crlServer: http.Server;
let crlUrl: string;
let revokedSerials: string[] = [];

before(async () => {
  ca = await TestCa.create();
  crlServer = http.createServer((_req, res) => {
    void ca.crl(revokedSerials).then((der) => res.writeHead(200, { "content-type": "application/pkix-crl" }).end(der));
  });
  await new Promise<void>((resolve) => crlServer.listen(0, "127.0.0.1", resolve));
  crlUrl = `http://127.0.0.1:${(crlServer.address() as AddressInfo).port}/ca.crl`;
});
after(() => new Promise((resolve) => crlServer.close(resolve)));

function work(t: test.TestContext): { dir: string; certbot: string } {
  const w = tempDir("certbot-plan");
  t.after(() => w.remove());
  const certbot = path.join(w.dir, "letsencrypt");
  mkdirSync(path.join(certbot, "renewal"), { recursive: true });
  return { dir: w.dir, certbot };
}

function config(sites: Config["sites"], extra: Partial<Config> = {}): Config {
  return { ca: "letsencrypt", accept_terms: true, sites, ...extra };
}

async function plan(certbot: string, cfg: Config, storageDir?: string): Promise<ImportPlan> {
  return planImport({
    folder: await readCertbotFolder(certbot),
    config: cfg,
    storageLocation: storageDir ?? "/nowhere",
    store: storageDir ? new CertificateStore(FsStorage.existing(storageDir), captureLog().log) : undefined,
    now: Date.now(),
    checkRevocation,
  });
}

test("the newest lineage of a name set wins, the older one is a leftover with the command that deletes it, and the account that ordered them comes along", async (t) => {
  const { certbot } = work(t);
  const old = await ca.issue(NAMES, { from: new Date(Date.now() - 40 * DAY) });
  const newer = await ca.issue(NAMES, { from: new Date(Date.now() - 5 * DAY) });
  writeLineage(certbot, { name: "example.com", server: PRODUCTION, accountId: "acc1", ...old });
  writeLineage(certbot, { name: "example.com-0001", server: PRODUCTION, accountId: "acc1", ...newer });
  const accountKey = createPrivateKey("rsa2048");
  writeAccount(certbot, PRODUCTION, "acc1", { keyPem: accountKey, url: "https://acme-v02.api.letsencrypt.org/acme/acct/1234", contact: ["mailto:me@example.com"] });

  const p = await plan(certbot, config([{ hosts: NAMES, redirect: "https://elsewhere.example" }]));
  assert.equal(p.cas.length, 1);
  const [le] = p.cas;
  assert.equal(le!.label, "letsencrypt");
  assert.equal(le!.unused, undefined, "the config's CA");
  assert.deepEqual(le!.certificates.map((c) => [c.lineage, c.action, c.folder, c.cert.info.serial.toLowerCase(), c.site]), [
    ["example.com-0001", "write", setFolder(caId(PRODUCTION), NAMES), newer.serial, NAMES.join(", ")],
  ]);
  assert.deepEqual(le!.leftovers.map((l) => [l.lineage, l.remove]), [["example.com", `certbot delete --cert-name example.com --config-dir ${certbot}`]]);
  assert.match(le!.leftovers[0]!.why, new RegExp(`older certificate \\(serial ${old.serial.toUpperCase()}.*lineage example.com-0001 has a newer one`));
  assert.equal(le!.account.action, "import");
  assert.ok(le!.account.action === "import" && le!.account.url === "https://acme-v02.api.letsencrypt.org/acme/acct/1234" && le!.account.contact[0] === "mailto:me@example.com");
  assert.equal(le!.account.action === "import" && sameKey(le!.account.keyPem, accountKey), true, "the same key, from certbot's JWK");
});

test("expired, revoked, mismatched and unreadable lineages are skipped with the reason; one the CA's CRL does not list is imported as not revoked", async (t) => {
  const { certbot } = work(t);
  const good = await ca.issue(["good.example.com"], { crl: crlUrl });
  const revoked = await ca.issue(["revoked.example.com"], { crl: crlUrl });
  revokedSerials = [revoked.serial];
  const expired = await ca.issue(["expired.example.com"], { from: new Date(Date.now() - 100 * DAY), until: new Date(Date.now() - 10 * DAY) });
  const a = await ca.issue(["mismatch.example.com"]);
  const b = await ca.issue(["mismatch.example.com"]);
  writeLineage(certbot, { name: "good.example.com", server: PRODUCTION, ...good });
  writeLineage(certbot, { name: "revoked.example.com", server: PRODUCTION, ...revoked });
  writeLineage(certbot, { name: "expired.example.com", server: PRODUCTION, ...expired });
  writeLineage(certbot, { name: "mismatch.example.com", server: PRODUCTION, chainPem: a.chainPem, keyPem: b.keyPem });
  writeLineage(certbot, { name: "gone.example.com", server: PRODUCTION, ...good });
  rmSync(path.join(certbot, "archive", "gone.example.com", "privkey1.pem"));

  const p = await plan(certbot, config([{ hosts: ["good.example.com"], redirect: "https://elsewhere.example" }]));
  assert.deepEqual(p.cas[0]!.certificates.map((c) => [c.lineage, c.revocation]), [["good.example.com", { status: "good", crl: crlUrl }]]);
  const why = Object.fromEntries(p.skipped.map((s) => [s.lineage, s.why]));
  assert.deepEqual(Object.keys(why).sort(), ["expired.example.com", "gone.example.com", "mismatch.example.com", "revoked.example.com"]);
  assert.match(why["expired.example.com"]!, new RegExp(`^expired on ${new Date(Date.now() - 10 * DAY).toISOString().slice(0, 10)}$`));
  assert.match(why["revoked.example.com"]!, new RegExp(`^revoked on \\d{4}-\\d\\d-\\d\\d \\(keyCompromise\\), says the CA's CRL ${crlUrl}$`));
  assert.equal(why["mismatch.example.com"], "mismatched pair: the key archive/mismatch.example.com/privkey1.pem does not belong to the certificate archive/mismatch.example.com/fullchain1.pem");
  assert.equal(why["gone.example.com"], "cannot read live/gone.example.com/privkey.pem: no such file");
  assert.ok(p.skipped.every((s) => s.remove === `certbot delete --cert-name ${s.lineage} --config-dir ${certbot}`));
});

test("staging and production stay apart: each CA keeps its own certificates and account, and the one the config does not use says so", async (t) => {
  const { certbot } = work(t);
  const production = await ca.issue(NAMES);
  const staging = await ca.issue(NAMES);
  writeLineage(certbot, { name: "example.com", server: PRODUCTION, accountId: "prod", ...production });
  writeLineage(certbot, { name: "example.com-0001", server: STAGING, accountId: "stag", ...staging });
  writeAccount(certbot, PRODUCTION, "prod", { keyPem: createPrivateKey("ecdsa-p256"), url: "https://acme-v02.api.letsencrypt.org/acme/acct/1" });
  writeAccount(certbot, STAGING, "stag", { keyPem: createPrivateKey("ecdsa-p256"), url: "https://acme-staging-v02.api.letsencrypt.org/acme/acct/2" });

  const p = await plan(certbot, config([{ hosts: NAMES, redirect: "https://elsewhere.example" }]));
  assert.deepEqual(
    p.cas.map((c) => [c.label, c.staging, c.certificates.map((x) => [x.lineage, x.folder]), c.account.action === "import" ? c.account.url : c.account.why, c.leftovers.length]),
    [
      ["letsencrypt", false, [["example.com", setFolder(caId(PRODUCTION), NAMES)]], "https://acme-v02.api.letsencrypt.org/acme/acct/1", 0],
      ["letsencrypt-staging", true, [["example.com-0001", setFolder(caId(STAGING), NAMES)]], "https://acme-staging-v02.api.letsencrypt.org/acme/acct/2", 0],
    ],
  );
  assert.equal(p.cas[1]!.unused, "the config's ca: is letsencrypt, not this CA: padlock serves these only with ca: letsencrypt-staging");
});

test("a live/ folder no renewal file describes (an init script's dummy certificate) is named and left alone", async (t) => {
  const { certbot } = work(t);
  mkdirSync(path.join(certbot, "live", "example.com"), { recursive: true });
  writeFileSync(path.join(certbot, "live", "example.com", "fullchain.pem"), ca.certificate.toString("pem"));
  const p = await plan(certbot, config([{ hosts: NAMES, redirect: "https://elsewhere.example" }]));
  assert.equal(p.cas.length, 0);
  assert.deepEqual(p.strays.map((s) => s.folder), ["live/example.com"]);
  assert.match(p.strays[0]!.why, /no renewal\/example.com.conf describes it; it holds a self-signed certificate \(CN=padlock import test CA\), such as the dummy certificate/);
});

test("a key type the site does not ask for, names the site leaves out, names no site lists: each says what padlock will do and how to keep the certificate", async (t) => {
  const { certbot } = work(t);
  writeLineage(certbot, { name: "example.com", server: PRODUCTION, ...(await ca.issue(NAMES, { key: "rsa2048" })) });
  writeLineage(certbot, { name: "other.example.org", server: PRODUCTION, ...(await ca.issue(["other.example.org"])) });
  const p = await plan(certbot, config([{ hosts: ["example.com"], redirect: "https://elsewhere.example" }]));
  const [site, stray] = p.cas[0]!.certificates;
  assert.deepEqual([site!.cert.meta.names, site!.cert.meta.keyType, stray!.cert.meta.names], [["example.com"], "rsa2048", ["other.example.org"]]);
  assert.ok(site!.notes.includes("the certificate also covers www.example.com, which the site does not list: add it to the site's hosts to keep serving it"), site!.notes.join("\n"));
  assert.ok(site!.notes.some((n) => n.startsWith("the site asks for ecdsa-p256 keys (tls.key_type, by default) but this key is rsa2048") && n.endsWith("add tls: { key_type: rsa2048 } to the site to keep this one until its renewal")));
  assert.ok(stray!.notes.includes("no site in the config lists exactly these names, so padlock stores it but serves it only once a site has hosts: [other.example.org]"));
});

test("the command: the plan writes nothing; --apply writes what the certificate manager reads (keys 0600) and leaves certbot's folder alone; run again it finds everything there; a newer lineage later replaces the stored certificate, which is kept beside it", async (t) => {
  const { dir, certbot } = work(t);
  const first = await ca.issue(NAMES, { from: new Date(Date.now() - 30 * DAY) });
  writeLineage(certbot, { name: "example.com", server: PRODUCTION, accountId: "acc1", ...first });
  writeAccount(certbot, PRODUCTION, "acc1", { keyPem: createPrivateKey("ecdsa-p256"), url: "https://acme-v02.api.letsencrypt.org/acme/acct/77" });
  const storage = path.join(dir, "data");
  const file = writeConfig(path.join(dir, "padlock.yaml"), { ...config([{ hosts: NAMES, redirect: "https://elsewhere.example" }]), storage: "data" });
  const certbotFiles = snapshotFolder(certbot);

  const dry = await runPadlock(["import", "certbot", certbot, "--config", file]);
  assert.equal(dry.code, 0, dry.stderr);
  assert.match(dry.stdout, /Nothing was written\. Run again with --apply to write 2 items into /);
  assert.throws(() => statSync(storage), /ENOENT/);

  const applied = await runPadlock(["import", "certbot", certbot, "--config", file, "--apply"]);
  assert.equal(applied.code, 0, applied.stderr);
  const folder = setFolder(caId(PRODUCTION), NAMES);
  const stored = await readSet(FsStorage.existing(storage), folder);
  assert.equal(stored.kind, "ok");
  assert.ok(stored.kind === "ok" && stored.meta);
  assert.deepEqual(
    stored.kind === "ok" && { serial: stored.info.serial, names: stored.meta!.names, ca: stored.meta!.ca, keyType: stored.meta!.keyType, from: stored.meta!.imported?.from },
    { serial: first.serial.toUpperCase(), names: NAMES, ca: PRODUCTION, keyType: "ecdsa-p256", from: `certbot lineage example.com (${certbot}/archive/example.com/fullchain1.pem)` },
  );
  for (const key of [`${folder}/key.pem`, `accounts/${caId(PRODUCTION)}/account.key`]) assert.equal(statSync(path.join(storage, key)).mode & 0o777, 0o600, key);
  assert.deepEqual(JSON.parse(readFileSync(path.join(storage, "accounts", caId(PRODUCTION), "account.json"), "utf8")), { url: "https://acme-v02.api.letsencrypt.org/acme/acct/77", contact: [] });
  assert.deepEqual(snapshotFolder(certbot), certbotFiles);

  const again = await runPadlock(["import", "certbot", certbot, "--config", file, "--apply"]);
  assert.match(again.stdout, new RegExp(`imported  example.com, www.example.com\\n.*\\n +already in ${escape(folder)}: nothing to do`));
  assert.match(again.stdout, /account   storage already holds certbot's account acc1/);
  assert.match(again.stdout, /\nNothing to write\.\n$/);

  const renewedByCertbot = await ca.issue(NAMES, { from: new Date(Date.now() - DAY) });
  writeLineage(certbot, { name: "example.com-0001", server: PRODUCTION, accountId: "acc1", ...renewedByCertbot });
  const replaced = await runPadlock(["import", "certbot", certbot, "--config", file, "--apply"]);
  assert.equal(replaced.code, 0, replaced.stderr);
  assert.match(replaced.stdout, new RegExp(`replacing certificate ${first.serial.toUpperCase()}, valid until .*, which is kept beside it`));
  const current = await readSet(FsStorage.existing(storage), folder);
  assert.equal(current.kind === "ok" && current.info.serial, renewedByCertbot.serial.toUpperCase());
  const kept = (await FsStorage.existing(storage).list(`${folder}/`)).filter((k) => k.includes(".replaced-")).map((k) => k.replace(/-\d{8}T\d{6}\.\d+Z$/, ""));
  assert.deepEqual(kept.sort(), [`${folder}/cert.pem.replaced`, `${folder}/key.pem.replaced`, `${folder}/meta.json.replaced`]);

  // padlock renewed meanwhile: storage holds a newer certificate than any lineage, and keeps it.
  const byPadlock = await ca.issue(NAMES, { from: new Date(Date.now() - 1000) });
  await switchIn(FsStorage.existing(storage), folder, { chainPem: byPadlock.chainPem, keyPem: byPadlock.keyPem, info: readCertificate(byPadlock.chainPem), meta: { names: NAMES, ca: PRODUCTION, keyType: "ecdsa-p256", serial: byPadlock.serial.toUpperCase(), notBefore: "", notAfter: "", issuedAt: "" } });
  const keep = await runPadlock(["import", "certbot", certbot, "--config", file, "--apply"]);
  assert.match(keep.stdout, new RegExp(`keep      example.com, www.example.com\\n.*\\n +not imported: ${escape(folder)} holds certificate ${byPadlock.serial.toUpperCase()}, valid until .*, which is kept`));
  const last = await readSet(FsStorage.existing(storage), folder);
  assert.equal(last.kind === "ok" && last.info.serial, byPadlock.serial.toUpperCase());
});

test("run as root, the import writes as the user who owns padlock's storage, so padlock can still read and renew what it wrote", async (t) => {
  assert.equal(process.getuid?.(), 0, "this test runs the import as root; run the suite as root (CI does)");
  const nobody = lookupUser("nobody")!;
  const { dir, certbot } = work(t);
  chmodSync(dir, 0o755); // nobody reaches the storage folder inside it
  writeLineage(certbot, { name: "example.com", server: PRODUCTION, ...(await ca.issue(NAMES)) });
  const storage = path.join(dir, "data");
  mkdirSync(storage, { mode: 0o700 });
  chownSync(storage, nobody.uid, nobody.gid);
  const file = writeConfig(path.join(dir, "padlock.yaml"), { ...config([{ hosts: NAMES, redirect: "https://elsewhere.example" }]), storage: "data" });
  const applied = await runPadlock(["import", "certbot", certbot, "--config", file, "--apply"], { switchesUser: true });
  assert.equal(applied.code, 0, applied.stderr + applied.stdout);
  assert.match(applied.stdout, /\(writing as nobody, the user padlock serves as\)/);
  const written = (await FsStorage.existing(storage).list("")).map((k) => path.join(storage, k));
  assert.ok(written.length >= 3);
  for (const f of [...written, path.join(storage, "certificates")]) assert.equal(statSync(f).uid, nobody.uid, f);
});

test("bad input says what and where: a folder that is not certbot's, a renewal file whose server is not a URL", async (t) => {
  const { dir, certbot } = work(t);
  const file = writeConfig(path.join(dir, "padlock.yaml"), { ...config([{ hosts: NAMES, redirect: "https://elsewhere.example" }]), storage: "data" });
  const notCertbot = await runPadlock(["import", "certbot", dir, "--config", file]);
  assert.equal(notCertbot.code, 2);
  assert.equal(notCertbot.stderr, `padlock: ${dir} is not a certbot folder: it has no renewal/ folder. Name the folder certbot keeps its configuration in: /etc/letsencrypt, or the folder mounted there in a container (such as ./services/certbot/conf)\n`);
  writeLineage(certbot, { name: "example.com", server: "acme-v02.api.letsencrypt.org", ...(await ca.issue(NAMES)) });
  const badServer = await runPadlock(["import", "certbot", certbot, "--config", file]);
  assert.equal(badServer.code, 0, badServer.stderr);
  assert.match(badServer.stdout, /skip      example.com: renewal\/example.com.conf: server = acme-v02.api.letsencrypt.org is not the URL of an ACME directory\n/);
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** The same private key, whatever its PEM form (certbot keeps a JWK; padlock writes PKCS#8). */
function sameKey(a: string, b: string): boolean {
  const jwk = (pem: string) => JSON.stringify(Object.entries(nodeKey(pem).export({ format: "jwk" })).sort());
  return jwk(a) === jwk(b);
}
