// Three padlock instances sharing a real redis-server behind haproxy (round robin), Pebble
// validating through the balancer so that each challenge request lands on any instance: one
// order per name set, every instance serving the certificate as soon as it is stored, and a
// renewal forced on one instance reaching the others.
import test from "node:test";
import assert from "node:assert/strict";
import { httpsGet } from "../support/clients.js";
import { installTimes, sameCertificateEverywhere, startCluster } from "../support/cluster.js";
import { runPadlock } from "../support/padlock-process.js";
import { waitFor } from "../support/env.js";

test("three instances behind a balancer: one order per name set, the same certificate everywhere, a forced renewal reaches all", async (t) => {
  const cluster = await startCluster(t, {
    sites: [
      { hosts: ["blog.test", "www.blog.test"], redirect: "https://elsewhere.test", tls: { challenges: ["http-01"] } },
      { hosts: ["alpn.test"], redirect: "https://elsewhere.test", tls: { challenges: ["tls-alpn-01"] } },
    ],
  });
  const output = () => cluster.instances.map((i) => `--- ${i.name}\n${i.output()}`).join("\n");

  const blog = await sameCertificateEverywhere(cluster, "blog.test");
  const alpn = await sameCertificateEverywhere(cluster, "alpn.test");
  assert.equal(cluster.pebble.ordersPlaced(), 2, `one order per name set\n${output()}`);
  assert.equal(cluster.pebble.certificatesIssued(), 2);
  for (const serial of [blog, alpn]) {
    const installs = installTimes(cluster, serial);
    assert.equal(installs.filter((i) => i.how.startsWith("issued in")).length, 1, `one instance issued ${serial}\n${output()}`);
    assert.equal(installs.length, 3, `every instance installed ${serial}: ${JSON.stringify(installs)}`);
    const issued = installs.find((i) => i.how.startsWith("issued in"))!;
    const others = installs.filter((i) => i !== issued);
    assert.ok(others.every((i) => /^(stored by another instance|from storage)$/.test(i.how)), JSON.stringify(installs));
    t.diagnostic(`${serial}: the other instances installed it ${others.map((i) => i.at - issued.at).join(" and ")} ms after the one that ordered`);
  }
  // The balancer spread Pebble's validation requests: instances other than the orderer answered HTTP-01 (200, from the shared token).
  const answeredHttp01 = await waitFor("access log lines of HTTP-01 answers on several instances", () => {
    const who = cluster.instances.filter((i) => i.logLines().some((l) => String(l.path).startsWith("/.well-known/acme-challenge/") && l.status === 200));
    return who.length >= 2 && who;
  }, 5_000);
  t.diagnostic(`instances that answered HTTP-01 requests: ${answeredHttp01.map((i) => i.name).join(", ")}`);
  const viaBalancer = await Promise.all([0, 1, 2].map(async () => (await httpsGet("blog.test", cluster.httpsPort, await cluster.root())).serial));
  assert.deepEqual(viaBalancer, [blog, blog, blog]);

  // A renewal forced on one instance: ordered there (under the lock), stored, and hot-swapped by the others.
  const [a] = cluster.instances;
  const renew = await runPadlock(["certs", "renew", "blog.test", "--force", "--config", a!.configFile]);
  assert.equal(renew.code, 0, `${renew.stdout}${renew.stderr}`);
  const renewedAt = Date.now();
  const renewed = await sameCertificateEverywhere(cluster, "blog.test", blog);
  t.diagnostic(`after the forced renewal, every instance served ${renewed} ${Date.now() - renewedAt} ms after \`padlock certs renew\` returned (polled every 25 ms)`);
  const installs = installTimes(cluster, renewed);
  assert.equal(installs.length, 3, JSON.stringify(installs));
  const issued = installs.find((i) => i.how.startsWith("issued in"));
  assert.equal(issued?.instance, "a", `instance a ordered it: ${JSON.stringify(installs)}`);
  t.diagnostic(`renewal: the others installed it ${installs.filter((i) => i !== issued).map((i) => i.at - issued!.at).join(" and ")} ms after instance a`);
  assert.equal(cluster.pebble.ordersPlaced(), 3, `one more order for the renewal\n${output()}`);
});
