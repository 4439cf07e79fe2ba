// A real failed validation's observations: nginx answers the challenge port; padlock's own
// look (observeHttp01) and the CA's detail become one message naming nginx.
import test, { after, before } from "node:test";
import assert from "node:assert/strict";
import { ACME_ERROR_PREFIX, explainAcmeProblem } from "../../src/acme/problem-catalogue.js";
import { observeHttp01 } from "../../src/doctor/observe-challenge.js";
import { ChallTestSrv } from "../support/challtestsrv.js";
import { freePort } from "../support/env.js";
import { Nginx } from "../support/nginx.js";

let dns: ChallTestSrv;
before(async () => {
  dns = await ChallTestSrv.start();
});
after(() => dns.close());

test("nginx answering the challenge port: the failure message names it and its 404", async () => {
  const port = await freePort();
  const nginx = await Nginx.start(port);
  try {
    const url = `http://seed.test:${port}/.well-known/acme-challenge/tok3n`;
    const observations = await observeHttp01({ name: "seed.test", fetched: { url }, resolver: dns.address });
    const explained = explainAcmeProblem(
      { type: `${ACME_ERROR_PREFIX}unauthorized`, detail: `Non-200 status code from HTTP: ${url} returned 404`, identifier: { type: "dns", value: "seed.test" } },
      observations,
    );
    assert.equal(explained.seen[0], `the CA fetched ${url} and got 404`);
    const probe = `http://seed.test:${port}/.well-known/acme-challenge/`;
    assert.equal(explained.seen[1]!.replace(/nginx\/[\d.]+/, "nginx/VERSION").replace(/challenge\/[\w-]+ /, "challenge/TOKEN "), `padlock fetched ${probe}TOKEN from 127.0.0.1 and got 404 from a server that says \`Server: nginx/VERSION\``);
    assert.match(explained.seen[2]!, new RegExp(`^port ${port} at that address is not padlock \\(it is nginx \\(pid ${nginx.pid}`));
    assert.match(explained.message, /^seed\.test: The CA could not confirm/);
  } finally {
    await nginx.close();
  }
});

test("a name resolving elsewhere is part of the observations", async () => {
  // 127.0.0.2 is not an address of any interface, yet traffic to it stays on loopback.
  await dns.addA("far.test", ["127.0.0.2"]);
  const observations = await observeHttp01({ name: "far.test", port: await freePort(), resolver: dns.address });
  const mismatch = observations.find((o) => o.kind === "dns-mismatch");
  assert.ok(mismatch && mismatch.kind === "dns-mismatch");
  assert.deepEqual(mismatch.resolvesTo, ["127.0.0.2"]);
  const fetched = observations.find((o) => o.kind === "challenge-fetch");
  assert.ok(fetched && fetched.kind === "challenge-fetch");
  assert.equal(fetched.error, "connection refused: nothing listens on that port there");
});
