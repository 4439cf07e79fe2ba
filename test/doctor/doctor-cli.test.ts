// `padlock doctor` end to end as a child process: a healthy setup passes; a skewed CA clock, a
// CAA record forbidding the CA, an untrusted CA API certificate and a broken config each fail
// with their own message. DNS comes from pebble-challtestsrv, the CA directory from a tiny
// fake whose Date header and advertised features the test chooses.
import test, { after, before } from "node:test";
import assert from "node:assert/strict";
import { chownSync, mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { CheckResult } from "../../src/doctor/check-result.js";
import { userByName } from "../../src/doctor/system-users.js";
import { ChallTestSrv } from "../support/challtestsrv.js";
import { FakeAcmeDirectory, type FakeDirectoryOptions } from "../support/fake-acme-directory.js";
import { freePort } from "../support/env.js";
import { runPadlock } from "../support/padlock-process.js";
import { writeDoctorConfig } from "../support/doctor-config.js";
import { makeTestPki, type TestPki } from "../support/tls.js";

let dns: ChallTestSrv;
let ca: TestPki;
const nobody = userByName("nobody")!;

before(async () => {
  dns = await ChallTestSrv.start();
  ca = makeTestPki(["localhost", "127.0.0.1"]);
});
after(() => dns.close());

async function withDirectory<T>(options: FakeDirectoryOptions, body: (d: FakeAcmeDirectory) => Promise<T>): Promise<T> {
  const directory = await FakeAcmeDirectory.start({ tls: { key: ca.key, cert: ca.cert }, ...options });
  try {
    return await body(directory);
  } finally {
    await directory.close();
  }
}

async function doctor(config: Record<string, unknown>, format: "json" | "table" = "json") {
  const { file, dir } = writeDoctorConfig({
    accept_terms: true,
    ca_root: ca.caFile,
    storage: "data",
    user: "nobody",
    listen: "127.0.0.1",
    http_port: await freePort(),
    https_port: await freePort(),
    sites: [{ hosts: ["blog.test", "www.blog.test"], redirect: "https://example.org" }],
    ...config,
  });
  mkdirSync(path.join(dir, "data"));
  chownSync(path.join(dir, "data"), nobody.uid, nobody.gid);
  const args = ["doctor", "--config", file, "--resolver", dns.address, "--timeout", "5", ...(format === "json" ? ["--json"] : [])];
  const run = await runPadlock(args, { env: { COLUMNS: "120" } });
  assert.equal(run.stderr, "");
  const rows = format === "json" ? (JSON.parse(run.stdout) as { results: CheckResult[] }).results : [];
  return { code: run.code, rows, stdout: run.stdout, file };
}

const row = (rows: CheckResult[], check: string) => {
  const found = rows.find((r) => r.check === check);
  assert.ok(found, `no row "${check}" in ${JSON.stringify(rows.map((r) => r.check))}`);
  return found;
};

test("a healthy setup passes every check, and the CA's offer is reported", async () => {
  await withDirectory(
    { renewalInfo: true, meta: { termsOfService: "https://ca.test/terms", profiles: { classic: "90 days", shortlived: "6 days" }, externalAccountRequired: false } },
    async (directory) => {
      const { code, rows } = await doctor({ ca: directory.url });
      assert.deepEqual(rows.filter((r) => r.status !== "ok"), []);
      assert.equal(code, 0);
      assert.equal(
        row(rows, "CA directory").found,
        `${directory.url} answers; it offers ARI renewal windows (renewalInfo); profiles classic, shortlived; no External Account Binding needed; terms https://ca.test/terms`,
      );
      assert.match(row(rows, "CA root").found, /is trusted for the CA's API/);
      assert.equal(row(rows, "clock").status, "ok");
      for (const name of ["blog.test", "www.blog.test"]) {
        assert.equal(row(rows, `canary ${name}`).status, "ok");
        assert.equal(row(rows, `DNS ${name}`).status, "ok");
      }
    },
  );
});

test("the table form prints the same verdicts for people and exits 1 on a failure", async () => {
  await withDirectory({ clockOffsetMs: -2 * 3600_000 }, async (directory) => {
    const { code, stdout } = await doctor({ ca: directory.url }, "table");
    assert.equal(code, 1);
    assert.match(stdout, /^STATUS {2}CHECK +FOUND +FIX$/m);
    assert.match(stdout, /^FAIL {4}clock +this machine's clock is 2 h ahead/m);
    assert.match(stdout, /^1 failed, 0 warnings, \d+ ok$/m);
  });
});

test("a CA clock two hours behind: the doctor says this machine is 2 h ahead and how to fix it", async () => {
  await withDirectory({ clockOffsetMs: -2 * 3600_000 }, async (directory) => {
    const { code, rows } = await doctor({ ca: directory.url });
    assert.equal(code, 1);
    const clock = row(rows, "clock");
    assert.equal(clock.status, "fail");
    assert.match(clock.found, /^this machine's clock is 2 h ahead of the CA's \(CA: /);
    assert.match(clock.fix, /timedatectl set-ntp true/);
  });
  await withDirectory({ clockOffsetMs: 90_000 }, async (directory) => {
    const clock = row((await doctor({ ca: directory.url })).rows, "clock");
    assert.equal(clock.status, "warn");
    assert.match(clock.found, /^this machine's clock is (89|9[0-2]) s behind the CA's/);
  });
});

test("a CAA record forbidding the CA fails the doctor", async () => {
  await dns.addCaa("caa-blog.test", [{ tag: "issue", value: "letsencrypt.org" }]);
  await withDirectory({ meta: { caaIdentities: ["ca.padlock.test"] } }, async (directory) => {
    const { code, rows } = await doctor({ ca: directory.url, sites: [{ hosts: ["caa-blog.test"], redirect: "https://example.org" }] });
    assert.equal(code, 1);
    const caa = row(rows, "CAA caa-blog.test");
    assert.equal(caa.status, "fail");
    assert.equal(caa.found, `CAA at caa-blog.test allows only letsencrypt.org; ${directory.url} uses ca.padlock.test`);
    assert.equal(caa.fix, 'add a CAA record: caa-blog.test. CAA 0 issue "ca.padlock.test" (or switch to a CA the records allow)');
  });
});

test("the CA API's certificate is untrusted without ca_root; with it the directory is reached", async () => {
  await withDirectory({}, async (directory) => {
    const { code, rows } = await doctor({ ca: directory.url, ca_root: undefined });
    assert.equal(code, 1);
    const dir = row(rows, "CA directory");
    assert.equal(dir.status, "fail");
    assert.match(dir.found, /^cannot fetch https:\/\/127\.0\.0\.1:\d+\/dir: its TLS certificate is not trusted/);
    assert.match(dir.fix, /add ca_root: \/path\/to\/root\.pem/);
  });
});

test("terms not accepted, EAB missing and an unknown profile are each named", async () => {
  await withDirectory({ meta: { termsOfService: "https://ca.test/terms", externalAccountRequired: true, profiles: { classic: "" } } }, async (directory) => {
    const { rows } = await doctor({
      ca: directory.url,
      accept_terms: undefined,
      sites: [{ hosts: ["blog.test"], redirect: "https://example.org", tls: { profile: "shortlived" } }],
    });
    assert.match(row(rows, "CA terms").fix, /add accept_terms: true/);
    assert.match(row(rows, "CA account").found, /requires External Account Binding; the config has no eab:/);
    assert.match(row(rows, "profile blog.test").found, /asks for profile "shortlived", which .* does not offer \(it offers classic\)/);
  });
});

test("an invalid config is the only row, with file, line and key", async () => {
  const { file } = writeDoctorConfig({ sites: [{ hosts: ["Blog.test"], redirect: "https://example.org" }] });
  writeFileSync(file, "sites:\n  - hosts: [Blog.test]\n    redirect: https://example.org\n    colour: blue\n");
  const run = await runPadlock(["doctor", "--config", file, "--json"]);
  assert.equal(run.code, 1);
  const rows = (JSON.parse(run.stdout) as { results: CheckResult[] }).results;
  assert.equal(rows.length, 1);
  assert.equal(rows[0]!.status, "fail");
  assert.match(rows[0]!.found, new RegExp(`${file.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}:4: sites\\[0\\]\\.colour: unknown key`));
});

test("padlock's internal CA validates nothing: no DNS, CAA or canary rows, local names fine", async () => {
  const { code, rows } = await doctor({ ca: "internal", ca_root: undefined, sites: [{ hosts: ["localhost"], redirect: "https://example.org" }] });
  assert.deepEqual(
    rows.map((r) => r.check).filter((c) => !c.startsWith("port ")),
    ["config", "storage", "storage contents", "host localhost"],
  );
  assert.equal(row(rows, "host localhost").status, "ok");
  assert.equal(code, 0);
});
