// The seed's failure replayed: another web server (Debian's nginx) answers the challenge
// port with 404, and `padlock doctor` says so — and says when padlock itself answers.
import test, { after, before } from "node:test";
import assert from "node:assert/strict";
import type { CheckResult } from "../../src/doctor/check-result.js";
import { Edge } from "../../src/server/edge.js";
import { SiteTable } from "../../src/server/site-table.js";
import type { SiteRuntime } from "../../src/server/site-runtime.js";
import { Http01Challenges } from "../../src/server/http01-answer.js";
import { CertificateCache } from "../../src/tls/certificate-cache.js";
import { createLogger } from "../../src/log.js";
import { ChallTestSrv } from "../support/challtestsrv.js";
import { FakeAcmeDirectory } from "../support/fake-acme-directory.js";
import { freePort } from "../support/env.js";
import { Nginx } from "../support/nginx.js";
import { runPadlock } from "../support/padlock-process.js";
import { writeDoctorConfig } from "../support/doctor-config.js";

let dns: ChallTestSrv;
let directory: FakeAcmeDirectory;

before(async () => {
  [dns, directory] = await Promise.all([ChallTestSrv.start(), FakeAcmeDirectory.start()]);
});
after(async () => {
  await Promise.all([dns.close(), directory.close()]);
});

async function doctor(httpPort: number): Promise<{ code: number | null; rows: CheckResult[] }> {
  const { file, dir } = writeDoctorConfig({
    ca: directory.url,
    accept_terms: true,
    storage: "data",
    listen: "127.0.0.1",
    http_port: httpPort,
    https_port: await freePort(),
    sites: [{ hosts: ["blog.test"], redirect: "https://example.org" }],
  });
  const run = await runPadlock(["doctor", "--config", file, "--json", "--resolver", dns.address, "--timeout", "5"], { cwd: dir });
  assert.equal(run.stderr, "");
  return { code: run.code, rows: (JSON.parse(run.stdout) as { results: CheckResult[] }).results };
}

const row = (rows: CheckResult[], check: string) => {
  const found = rows.find((r) => r.check === check);
  assert.ok(found, `no row "${check}" in ${JSON.stringify(rows.map((r) => r.check))}`);
  return found;
};

test("another web server answering the challenge port with 404 is named, before any order", async () => {
  const port = await freePort();
  const nginx = await Nginx.start(port);
  try {
    const { code, rows } = await doctor(port);
    assert.equal(code, 1);
    const portRow = row(rows, `port ${port} (HTTP)`);
    assert.equal(portRow.status, "fail");
    assert.match(portRow.found, new RegExp(`port ${port} is held by nginx \\(pid ${nginx.pid}`));
    assert.match(portRow.found, /it answers HTTP with 404 with Server: nginx/);
    const canary = row(rows, "canary blog.test");
    assert.equal(canary.status, "fail");
    assert.match(canary.found, new RegExp(`fetched http://blog\\.test:${port}/\\.well-known/acme-challenge/[A-Za-z0-9_-]+ as the CA would`));
    assert.match(canary.found, new RegExp(`from 127\\.0\\.0\\.1:${port}: 404 with Server: nginx/[0-9.]+: another web server answered; port ${port} at 127\\.0\\.0\\.1 is not padlock \\(it is nginx`));
    assert.match(canary.fix, /pass \/\.well-known\/acme-challenge\/ to padlock/);
  } finally {
    await nginx.close();
  }
});

test("a free port: the canary token published by a temporary padlock comes back", async () => {
  const port = await freePort();
  const { code, rows } = await doctor(port);
  assert.equal(row(rows, `port ${port} (HTTP)`).status, "ok");
  const canary = row(rows, "canary blog.test");
  assert.equal(canary.status, "ok", canary.found);
  assert.match(canary.found, new RegExp(`from 127\\.0\\.0\\.1:${port}: 200 with the canary token: padlock answered`));
  assert.equal(code, 0, JSON.stringify(rows.filter((r) => r.status === "fail")));
});

test("a running padlock on the port is recognised by its answer", async () => {
  const site: SiteRuntime = { hosts: ["blog.test"], config: { hosts: ["blog.test"] }, handle: () => {}, close: async () => {} };
  const edge = new Edge({
    listen: "127.0.0.1",
    httpPort: 0,
    sites: new SiteTable<SiteRuntime>([{ hosts: site.hosts, site }]),
    challenges: new Http01Challenges(),
    certificates: new CertificateCache(),
    log: createLogger({ level: "silent", format: "json" }),
  });
  await edge.start();
  try {
    const { rows } = await doctor(edge.httpPort!);
    const portRow = row(rows, `port ${edge.httpPort} (HTTP)`);
    assert.equal(portRow.status, "ok");
    assert.match(portRow.found, /held by a padlock: .*already running/);
    const canary = row(rows, "canary blog.test");
    assert.equal(canary.status, "ok");
    assert.match(canary.found, /404 with no Server header: the running padlock answered/);
  } finally {
    await edge.close();
  }
});
