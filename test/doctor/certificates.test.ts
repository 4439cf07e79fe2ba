// The doctor's "existing certificates" rows, from what storage holds: expiry, CA environment,
// the ARI window, the last error and recent rate limiting.
import test from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { tempDir } from "../support/env.js";
import { checkExistingCertificates } from "../../src/doctor/checks/certificates.js";

const CA = "https://ca.test/dir";
const DAY = 86_400_000;

function storeCertificate(storage: string, folder: string, names: string[], days: number, ca: string, status?: unknown): { notAfter: Date; notBefore: Date } {
  const dir = path.join(storage, "certificates", folder);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  execFileSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", path.join(dir, "key.pem"), "-out", path.join(dir, "cert.pem"), "-days", String(days), "-subj", `/CN=${names[0]}`, "-addext", `subjectAltName=${names.map((n) => `DNS:${n}`).join(",")}`], { stdio: "ignore" });
  writeFileSync(path.join(dir, "meta.json"), JSON.stringify({ names, ca }));
  if (status) writeFileSync(path.join(dir, "status.json"), JSON.stringify(status));
  const text = execFileSync("openssl", ["x509", "-in", path.join(dir, "cert.pem"), "-noout", "-startdate", "-enddate"], { encoding: "utf8" });
  return { notBefore: new Date(/notBefore=(.+)/.exec(text)![1]!), notAfter: new Date(/notAfter=(.+)/.exec(text)![1]!) };
}

test("existing certificates: healthy with its ARI window, failing and rate limited, from another CA, or expired", async (t) => {
  const work = tempDir("doctor-certs");
  t.after(() => work.remove());
  const storage = path.join(work.dir, "data");
  assert.deepEqual(await checkExistingCertificates(storage, CA), [{ status: "ok", check: "certificates", found: "none stored yet", fix: "" }]);

  const healthy = storeCertificate(storage, "ca.test-dir/a.test", ["a.test"], 90, CA, {
    failures: 0,
    nextRenewal: "2099-01-02T00:00:00.000Z",
    renewalReason: "ari-window",
    ariWindow: { start: "2099-01-01T00:00:00.000Z", end: "2099-01-03T00:00:00.000Z" },
    rateLimitedAt: [],
  });
  const now = Date.now();
  storeCertificate(storage, "ca.test-dir/b.test", ["b.test", "www.b.test"], 90, CA, {
    failures: 3,
    lastError: "cannot reach the CA at https://ca.test: connection refused",
    lastErrorAt: new Date(now - 3600_000).toISOString(),
    rateLimitedAt: [new Date(now - 30 * DAY).toISOString(), new Date(now - DAY).toISOString()],
  });
  storeCertificate(storage, "staging.test-dir/c.test", ["c.test"], 90, "https://acme-staging-v02.api.letsencrypt.org/directory");

  const rows = await checkExistingCertificates(storage, CA, now);
  const row = (check: string) => rows.find((r) => r.check === check)!;
  assert.deepEqual(rows.map((r) => r.check), ["certificate a.test", "certificate b.test, www.b.test", "certificate c.test"]);

  const a = row("certificate a.test");
  assert.equal(a.status, "ok");
  assert.match(a.found, new RegExp(`^issued by ca\\.test \\(CN=a\\.test\\), valid until ${healthy.notAfter.toISOString().replace(/\./g, "\\.")} \\(\\d+ days left\\)`));
  assert.match(a.found, /renewal planned 2099-01-02T00:00:00\.000Z inside the CA's ARI window 2099-01-01T00:00:00\.000Z – 2099-01-03T00:00:00\.000Z/);

  const b = row("certificate b.test, www.b.test");
  assert.equal(b.status, "warn");
  assert.match(b.found, /the CA rate limited renewals 1 time\(s\) in the last 7 days, last at /);
  assert.match(b.found, /3 failed renewal attempt\(s\) in a row, .*: cannot reach the CA at https:\/\/ca\.test: connection refused/);
  assert.match(b.fix, /Retry-After/);

  const c = row("certificate c.test");
  assert.equal(c.status, "warn");
  assert.match(c.found, /issued by staging \(CN=c\.test\)/);
  assert.match(c.found, /from https:\/\/acme-staging-v02\.api\.letsencrypt\.org\/directory, not the CA in the config, so it is not used/);

  // The same storage 100 days later: the certificate of the configured CA has expired.
  const later = await checkExistingCertificates(storage, CA, healthy.notAfter.getTime() + DAY);
  const expired = later.find((r) => r.check === "certificate a.test")!;
  assert.equal(expired.status, "fail");
  assert.match(expired.found, /^expired: /);
  assert.match(expired.fix, /start padlock: it orders a new certificate at once/);
});
