// The seed's failure against the real test CA: nginx answers the HTTP-01 port with 404.
// `padlock doctor` says so before any order; a real Pebble order then fails, and the message
// built from Pebble's problem document and padlock's own observations says the same thing.
import test, { after, before } from "node:test";
import assert from "node:assert/strict";
import https from "node:https";
import acme from "acme-client";
import { ACME_ERROR_PREFIX, caFetchOf, explainAcmeProblem, type ProblemDocument } from "../../src/acme/problem-catalogue.js";
import type { CheckResult } from "../../src/doctor/check-result.js";
import { observeHttp01 } from "../../src/doctor/observe-challenge.js";
import { freePort } from "../support/env.js";
import { Nginx } from "../support/nginx.js";
import { startPebble, type Pebble } from "../support/pebble.js";
import { runPadlock } from "../support/padlock-process.js";
import { writeDoctorConfig } from "../support/doctor-config.js";

let nginx: Nginx;
let pebble: Pebble;

before(async () => {
  nginx = await Nginx.start(await freePort());
  pebble = await startPebble({ httpPort: nginx.port });
});
after(async () => {
  await Promise.all([pebble?.stop(), nginx?.close()]);
});

test("padlock doctor names nginx before any order, against the real Pebble directory", async () => {
  const { file } = writeDoctorConfig({
    ca: pebble.directoryUrl,
    ca_root: pebble.apiRootFile,
    accept_terms: true,
    storage: "data",
    listen: "127.0.0.1",
    http_port: nginx.port,
    https_port: await freePort(),
    sites: [{ hosts: ["seed.test"], redirect: "https://example.org" }],
  });
  const run = await runPadlock(["doctor", "--config", file, "--json", "--resolver", pebble.dns.address]);
  assert.equal(run.code, 1);
  const rows = (JSON.parse(run.stdout) as { results: CheckResult[] }).results;
  const byCheck = (check: string) => rows.find((r) => r.check === check)!;
  assert.equal(byCheck("CA directory").status, "ok");
  assert.match(byCheck("CA directory").found, /answers; it offers no ARI/);
  assert.equal(byCheck("clock").status, "ok");
  const canary = byCheck("canary seed.test");
  assert.equal(canary.status, "fail");
  assert.match(canary.found, /404 with Server: nginx\/[\d.]+: another web server answered; port \d+ at 127\.0\.0\.1 is not padlock \(it is nginx/);
});

test("a real Pebble order fails on the same 404, and its message names nginx", async () => {
  acme.axios.defaults.httpsAgent = new https.Agent({ ca: pebble.apiRootPem });
  const client = new acme.Client({ directoryUrl: pebble.directoryUrl, accountKey: await acme.crypto.createPrivateEcdsaKey() });
  await client.createAccount({ termsOfServiceAgreed: true });
  const order = await client.createOrder({ identifiers: [{ type: "dns", value: "seed.test" }] });
  const [authz] = await client.getAuthorizations(order);
  const challenge = authz!.challenges.find((c) => c.type === "http-01")!;
  await client.completeChallenge(challenge);
  await assert.rejects(client.waitForValidStatus(challenge));
  const [failed] = await client.getAuthorizations(order);
  const failedChallenge = failed!.challenges.find((c) => c.type === "http-01")!;
  const problem = failedChallenge.error as ProblemDocument;
  assert.equal(problem.type, `${ACME_ERROR_PREFIX}unauthorized`);

  const fetched = caFetchOf(failedChallenge as Parameters<typeof caFetchOf>[0]);
  assert.equal(fetched?.url, `http://seed.test:${nginx.port}/.well-known/acme-challenge/${challenge.token}`, "where the CA says it fetched");
  const observations = await observeHttp01({ name: "seed.test", fetched, resolver: pebble.dns.address });
  const explained = explainAcmeProblem({ ...problem, identifier: { type: "dns", value: "seed.test" } }, observations);
  const url = `http://seed.test:${nginx.port}/.well-known/acme-challenge/${challenge.token}`;
  assert.equal(explained.seen[0], `the CA fetched ${url} and got 404`);
  const probe = `http://seed.test:${nginx.port}/.well-known/acme-challenge/`;
  assert.match(explained.seen[1]!, new RegExp(`^padlock fetched ${probe.replace(/[.?]/g, "\\$&")}[\\w-]+ from 127\\.0\\.0\\.1 and got 404 from a server that says \`Server: nginx/[\\d.]+\`$`));
  assert.match(explained.seen[2]!, new RegExp(`^port ${nginx.port} at that address is not padlock \\(it is nginx \\(pid ${nginx.pid}`));
  assert.match(explained.message, /^seed\.test: The CA could not confirm that this server controls the name/);
});
