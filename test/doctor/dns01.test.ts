// `padlock doctor` checks each DNS-01 site before any order, against a real Knot on a high port
// (the config's resolver:, a zone no public DNS knows) and Pebble as the CA: the update server
// answers for the zone, a signed test update adds and removes a TXT value at each
// _acme-challenge name (a key the zone may not update fails here), the value shows at the
// authoritative servers, the servers the propagation check asks answer, and a hook exists and is
// executable (a relative path from the config file's folder).
import test, { after, before } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { CheckResult } from "../../src/doctor/check-result.js";
import type { TsigKey } from "../../src/acme/dns01/tsig.js";
import { freePort } from "../support/env.js";
import { startKnot, type KnotServer } from "../support/knot.js";
import { startPebble, type Pebble } from "../support/pebble.js";
import { runPadlock } from "../support/padlock-process.js";
import { writeDoctorConfig } from "../support/doctor-config.js";

let knot: KnotServer;
let pebble: Omit<Pebble, "dns">;

before(async () => {
  knot = await startKnot();
  pebble = await startPebble({ dnsServer: knot.address });
});

after(async () => {
  await pebble?.stop();
  await knot?.stop();
});

const rfc2136 = (key: TsigKey, server = knot.address) => ({
  provider: "rfc2136",
  server,
  tsig_name: key.name,
  tsig_algorithm: key.algorithm,
  tsig_secret: key.secret.toString("base64"),
});

const site = (hosts: string[], dns: Record<string, unknown>) => ({ hosts, redirect: "https://elsewhere.test", tls: { challenges: ["dns-01"], dns } });

async function doctor(sites: Record<string, unknown>[], prepare: (dir: string) => Promise<unknown> | void = () => undefined) {
  const { file, dir } = writeDoctorConfig({
    ca: pebble.directoryUrl,
    ca_root: pebble.apiRootFile,
    accept_terms: true,
    storage: "data",
    resolver: knot.address,
    listen: "127.0.0.1",
    http_port: await freePort(),
    https_port: await freePort(),
    sites,
  });
  await prepare(dir);
  const run = await runPadlock(["doctor", "--config", file, "--json", "--timeout", "5"]);
  assert.equal(run.stderr, "");
  const rows = (JSON.parse(run.stdout) as { results: CheckResult[] }).results;
  const row = (check: string) => {
    const found = rows.find((r) => r.check === check);
    assert.ok(found, `no row "${check}" in ${JSON.stringify(rows.map((r) => r.check))}`);
    return found;
  };
  return { code: run.code, rows, row, dir };
}

test("RFC 2136: the server, a signed test update at every _acme-challenge name, its propagation; a key the zone may not update fails", async () => {
  const unreachable = `127.0.0.1:${await freePort({ udp: true })}`;
  const { code, row } = await doctor([
    site(["example.test", "*.example.test", "www.example.test"], { ...rfc2136(knot.keys["hmac-sha256"]), nameservers: [knot.address] }),
    site(["denied.example.test"], rfc2136(knot.acmeOnlyKey)),
    site(["far.example.test"], rfc2136(knot.keys["hmac-sha256"], unreachable)),
  ]);
  assert.equal(code, 1);

  assert.deepEqual(row(`DNS-01 server ${knot.address}`), { status: "ok", check: `DNS-01 server ${knot.address}`, found: "answers for zone example.test", fix: "" });
  assert.equal(row("DNS-01 name servers example.test").found, `${knot.address} answers for zone example.test with authority (the servers asked are sites[0].tls.dns.nameservers)`);
  for (const fqdn of ["_acme-challenge.example.test", "_acme-challenge.www.example.test"]) {
    const update = row(`DNS-01 update ${fqdn}`);
    assert.equal(update.status, "ok", update.found);
    assert.equal(update.found, `a signed update (TSIG key padlock-hmac-sha256.) added and removed a test TXT value at ${fqdn}`);
    const propagation = row(`DNS-01 propagation ${fqdn}`);
    assert.equal(propagation.status, "ok", propagation.found);
    assert.match(propagation.found, /^the test value showed at every authoritative server within \d+\.\d s \(the servers asked are sites\[0\]\.tls\.dns\.nameservers\)$/);
    assert.deepEqual(await knot.txt(fqdn), [], "the test value is removed");
  }

  const denied = row("DNS-01 update _acme-challenge.denied.example.test");
  assert.equal(denied.status, "fail");
  assert.match(denied.found, /knows the TSIG key "padlock-acme-only\." .* but does not let it update _acme-challenge\.denied\.example\.test \(BADKEY\)/);
  assert.match(denied.fix, /allow the key to update TXT records at this name on the DNS server/);
  // Without nameservers:, the zone's NS (ns1.example.test) is found through the resolver, on port 53 where nothing answers here.
  const discovered = row("DNS-01 name servers denied.example.test");
  assert.equal(discovered.status, "fail");
  assert.match(discovered.found, new RegExp(`^ns1\\.example\\.test: .*127\\.0\\.0\\.1:53.* \\(the name servers of zone example\\.test were found through resolver ${knot.address.replace(/\./g, "\\.")}\\)$`));
  assert.match(discovered.fix, /list the zone's authoritative servers \(host:port\) in sites\[1\]\.tls\.dns\.nameservers/);

  const far = row(`DNS-01 server ${unreachable}`);
  assert.equal(far.status, "fail");
  assert.match(far.found, new RegExp(`no answer from the DNS server at ${unreachable.replace(/\./g, "\\.")}`));
  assert.match(far.fix, /check server in sites\[2\]\.tls\.dns/);
});

test("exec hook: missing, not executable, or there (a relative path from the config file's folder); the servers it will be checked at", async () => {
  const { row, dir } = await doctor(
    [
      site(["missing.example.test"], { provider: "exec", command: "./hooks/missing.sh" }),
      site(["plain.example.test"], { provider: "exec", command: "hooks/plain.sh add-args-after" }),
      site(["good.example.test"], { provider: "exec", command: "hooks/knot-update-hook.sh", nameservers: [knot.address] }),
    ],
    (configDir) => {
      mkdirSync(path.join(configDir, "hooks"));
      writeFileSync(path.join(configDir, "hooks", "plain.sh"), "#!/bin/sh\n", { mode: 0o644 });
      return knot.writeUpdateHook(path.join(configDir, "hooks"));
    },
  );
  const hooks = path.join(dir, "hooks");
  assert.deepEqual(row("DNS-01 hook missing.example.test"), {
    status: "fail",
    check: "DNS-01 hook missing.example.test",
    found: `${hooks}/missing.sh (sites[0].tls.dns.command) does not exist`,
    fix: `create it, or fix sites[0].tls.dns.command: a relative path starts at the config file's folder, ${dir}`,
  });
  assert.deepEqual(row("DNS-01 hook plain.example.test"), {
    status: "fail",
    check: "DNS-01 hook plain.example.test",
    found: `${hooks}/plain.sh (sites[1].tls.dns.command) is not executable`,
    fix: `chmod +x ${hooks}/plain.sh`,
  });
  assert.deepEqual(row("DNS-01 hook good.example.test"), {
    status: "ok",
    check: "DNS-01 hook good.example.test",
    found: `${hooks}/knot-update-hook.sh exists and is executable; it runs as COMMAND add|remove NAME VALUE from ${dir}`,
    fix: "",
  });
  assert.equal(row("DNS-01 name servers good.example.test").status, "ok");
  assert.equal(row("DNS-01 name servers missing.example.test").status, "fail", "ns1.example.test on port 53 does not answer here");
});

test("a zone: that does not hold a host's _acme-challenge name fails the config check, before anything is sent", async () => {
  const { code, rows } = await doctor([site(["example.test"], { ...rfc2136(knot.keys["hmac-sha256"]), zone: "www.example.test" })]);
  assert.equal(code, 1);
  assert.equal(rows.length, 1);
  assert.equal(rows[0]!.check, "config");
  assert.match(rows[0]!.found, /sites\[0\]\.tls\.dns\.zone: zone "www\.example\.test" does not contain _acme-challenge\.example\.test \(for example\.test\)/);
});
