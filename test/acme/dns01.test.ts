// DNS-01 providers against a real authoritative server (Knot DNS on loopback): RFC 2136 with
// TSIG, the exec hook driving the same server through knsupdate, and the clear errors a
// misconfiguration gets.
import test, { after, before } from "node:test";
import assert from "node:assert/strict";
import { chmod, mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { AuthoritativeTxtCheck } from "../../src/acme/dns01/authoritative.js";
import { ExecHookProvider } from "../../src/acme/dns01/exec-hook.js";
import { createDns01Provider } from "../../src/acme/dns01/from-config.js";
import { Dns01Error, withTxtRecord } from "../../src/acme/dns01/provider.js";
import { Rfc2136Provider } from "../../src/acme/dns01/rfc2136.js";
import { challengeRecordName, parseServer } from "../../src/config/dns-settings.js";
import { startKnot, type KnotServer } from "../support/knot.js";
import { tempDir, waitFor } from "../support/env.js";

let knot: KnotServer;
let check: AuthoritativeTxtCheck;
const tmp = tempDir("dns01");
const scratch = tmp.dir;

before(async () => {
  knot = await startKnot();
  // Knot is both the "resolver" that finds example.test's NS and that NS itself (ns1 -> 127.0.0.1).
  check = new AuthoritativeTxtCheck({ resolver: knot.address, nameserverPort: knot.port, pollIntervalMs: 50 });
});

after(async () => {
  await knot?.stop();
  tmp.remove();
});

const soon = () => new Date(Date.now() + 10_000);

/** As start-up builds providers from the config: `resolver: <knot>`, the name servers it finds asked on Knot's port. */
const configContext = () => ({ configKey: "sites[0].tls.dns", baseDir: scratch, resolver: knot.address, tuning: { nameserverPort: knot.port, pollIntervalMs: 50 } });

function rfc2136(overrides: Partial<ConstructorParameters<typeof Rfc2136Provider>[0]> = {}) {
  return new Rfc2136Provider({ server: knot.address, key: knot.keys["hmac-sha256"], check, configKey: "sites[0].tls.dns", ...overrides });
}

async function expectDns01Error(promise: Promise<unknown>, kind: string, ...patterns: RegExp[]) {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof Dns01Error, `expected a Dns01Error, got ${String(err)}`);
    assert.equal(err.kind, kind, err.message);
    for (const pattern of patterns) assert.match(err.message, pattern);
    return true;
  });
}

test("challenge record names: a wildcard shares its base name's record", () => {
  assert.equal(challengeRecordName("example.test"), "_acme-challenge.example.test");
  assert.equal(challengeRecordName("*.example.test"), "_acme-challenge.example.test");
});

test("RFC 2136: adds a TXT value, waits until the authoritative server shows it, removes it (zone found from the SOA)", async () => {
  const provider = rfc2136();
  const fqdn = "_acme-challenge.example.test";
  assert.equal(await provider.zoneOf(fqdn), "example.test");
  await provider.present(fqdn, "apex-token");
  await provider.present(fqdn, "wildcard-token");
  await provider.waitVisible(fqdn, "apex-token", soon());
  await provider.waitVisible(fqdn, "wildcard-token", soon());
  assert.deepEqual((await knot.txt(fqdn)).sort(), ["apex-token", "wildcard-token"]);

  await provider.cleanup(fqdn, "apex-token");
  assert.deepEqual(await knot.txt(fqdn), ["wildcard-token"], "removing one value leaves the other challenge's value");
  await provider.cleanup(fqdn, "wildcard-token");
  assert.deepEqual(await knot.txt(fqdn), []);
});

for (const algorithm of ["hmac-sha512", "hmac-sha1"] as const) {
  test(`RFC 2136: TSIG ${algorithm} over TCP`, async () => {
    const provider = rfc2136({ key: knot.keys[algorithm], transport: "tcp", zone: "example.test." });
    const fqdn = `_acme-challenge.${algorithm}.example.test`;
    await provider.present(fqdn, `value-${algorithm}`);
    assert.deepEqual(await knot.txt(fqdn), [`value-${algorithm}`]);
    await provider.cleanup(fqdn, `value-${algorithm}`);
    assert.deepEqual(await knot.txt(fqdn), []);
  });
}

test("RFC 2136 from config: a long value and the config's key", async () => {
  const provider = createDns01Provider(
    { provider: "rfc2136", server: knot.address, tsig_name: knot.keys["hmac-sha256"].name, tsig_secret: knot.keys["hmac-sha256"].secret.toString("base64") },
    configContext(),
  );
  const fqdn = "_acme-challenge.long.example.test";
  const value = "x".repeat(300); // longer than one TXT character-string
  await provider.present(fqdn, value);
  await provider.waitVisible(fqdn, value, soon());
  await provider.cleanup(fqdn, value);
  assert.deepEqual(await knot.txt(fqdn), []);
});

test("the record is always removed, even when validation fails", async () => {
  const provider = rfc2136();
  const fqdn = "_acme-challenge.fails.example.test";
  const cleanupErrors: unknown[] = [];
  await assert.rejects(
    withTxtRecord(
      provider,
      { fqdn, value: "doomed", visibleBy: soon() },
      async () => {
        assert.deepEqual(await knot.txt(fqdn), ["doomed"]);
        throw new Error("the CA said no");
      },
      { onCleanupError: (err) => cleanupErrors.push(err) },
    ),
    /the CA said no/,
  );
  assert.deepEqual(await knot.txt(fqdn), []);
  assert.deepEqual(cleanupErrors, []);
});

test("waitVisible gives up at the deadline and names the server that lacks the record, and the resolver that found it", async () => {
  await expectDns01Error(
    check.waitVisible("_acme-challenge.never.example.test", "absent", new Date(Date.now() + 300)),
    "not-visible",
    /_acme-challenge\.never\.example\.test "absent"/,
    /ns1\.example\.test/,
    new RegExp(`the name servers of zone example\\.test were found through resolver 127\\.0\\.0\\.1:${knot.port}$`),
  );
});

test("tls.dns.nameservers: exactly the servers named are asked, on their own port, with no resolver involved", async () => {
  const named = new AuthoritativeTxtCheck({ nameservers: [knot.address], configKey: "sites[0].tls.dns", pollIntervalMs: 50 });
  const provider = rfc2136({ check: named });
  const fqdn = "_acme-challenge.named.example.test";
  await withTxtRecord(provider, { fqdn, value: "named", visibleBy: soon() }, async () => undefined, { onCleanupError: (err) => assert.fail(String(err)) });
  await expectDns01Error(
    named.waitVisible(fqdn, "gone", new Date(Date.now() + 200)),
    "not-visible",
    new RegExp(`127\\.0\\.0\\.1:${knot.port}: 127\\.0\\.0\\.1:${knot.port} answered NXDOMAIN`),
    /the servers asked are sites\[0\]\.tls\.dns\.nameservers$/,
  );
});

test("finding the zone through the resolver: a failure names the resolver and how to point padlock elsewhere", async () => {
  await expectDns01Error(
    new AuthoritativeTxtCheck({ resolver: knot.address, configKey: "sites[2].tls.dns" }).findZone("_acme-challenge.other.test"),
    "unreachable",
    new RegExp(`cannot find the DNS zone of _acme-challenge\\.other\\.test through resolver 127\\.0\\.0\\.1:${knot.port}: looking up the SOA of _acme-challenge\\.other\\.test failed \\(EREFUSED\\)`),
    /set resolver: in the config to a DNS server that knows the zone, or list the zone's authoritative servers \(host:port\) in sites\[2\]\.tls\.dns\.nameservers/,
  );
  assert.match(new AuthoritativeTxtCheck().resolverName, /^the system resolver \(.+\)$/);
});

test("stopping: a wait for the record ends at once, and the record is removed", async () => {
  // The servers asked never show the record (nothing answers there), so only stopping ends the wait.
  const silent = new AuthoritativeTxtCheck({ nameservers: ["127.0.0.1:1"], pollIntervalMs: 50, queryTimeoutMs: 100 });
  const provider = rfc2136({ check: silent });
  const fqdn = "_acme-challenge.stopping.example.test";
  const stopping = new AbortController();
  const waiting = withTxtRecord(provider, { fqdn, value: "abandoned", visibleBy: new Date(Date.now() + 600_000) }, async () => assert.fail("validated"), {
    stopping: stopping.signal,
    onCleanupError: (err) => assert.fail(String(err)),
  });
  await waitFor("the record at Knot", async () => (await knot.txt(fqdn)).includes("abandoned"));
  stopping.abort();
  await expectDns01Error(waiting, "stopped", /padlock is stopping: stopped waiting for the TXT record _acme-challenge\.stopping\.example\.test to appear at 127\.0\.0\.1:1/);
  assert.deepEqual(await knot.txt(fqdn), []);
});

test("stopping: a hung add hook is stopped at once (its process group too), and remove still runs", async (t) => {
  const marks = path.join(scratch, "stopping-marks");
  await mkdir(marks);
  const script = path.join(scratch, "hangs-on-add.sh");
  await writeFile(script, `#!/bin/sh\nif [ "$1" = add ]; then sleep 600 & echo $! > ${marks}/sleep.pid; wait; fi\ntouch ${marks}/$1-done\n`);
  await chmod(script, 0o755);
  const provider = new ExecHookProvider({ command: script, check });
  const stopping = new AbortController();
  const published: unknown[] = [];
  const waiting = withTxtRecord(provider, { fqdn: "_acme-challenge.example.test", value: "v", visibleBy: soon() }, async () => assert.fail("validated"), {
    stopping: stopping.signal,
    onPublishError: (err) => published.push(err),
    onCleanupError: (err) => assert.fail(String(err)),
  });
  const sleeper = Number(await waitFor("the hook's sleep", () => readFile(path.join(marks, "sleep.pid"), "utf8").catch(() => undefined)));
  t.after(() => (processExists(sleeper) ? process.kill(sleeper, "SIGKILL") : undefined));
  stopping.abort();
  await expectDns01Error(waiting, "stopped", /"[^"]*hangs-on-add\.sh add _acme-challenge\.example\.test\. v" was stopped: padlock is stopping/);
  assert.equal(published.length, 1, "the failed add is told at once");
  assert.deepEqual((await readdir(marks)).sort(), ["remove-done", "sleep.pid"]);
  await waitFor("the hook's sleep to be gone", () => !processExists(sleeper));
});

test("a configured zone that does not hold the name is refused before anything is sent", async () => {
  await expectDns01Error(
    rfc2136({ zone: "example.test" }).present("_acme-challenge.example.org", "v"),
    "bad-settings",
    /zone "example\.test" in sites\[0\]\.tls\.dns does not contain _acme-challenge\.example\.org/,
  );
});

test("a key the zone knows but may not update at this name is reported as missing permission, not as an unknown key (the README's Knot ACL)", async () => {
  const provider = rfc2136({ key: knot.acmeOnlyKey });
  for (const fqdn of ["_acme-challenge.example.test", "_acme-challenge.www.example.test"]) {
    await provider.present(fqdn, "allowed");
    assert.deepEqual(await knot.txt(fqdn), ["allowed"]);
    await provider.cleanup(fqdn, "allowed");
  }
  await expectDns01Error(
    provider.present("_acme-challenge.blog.example.test", "v"),
    "key-not-permitted",
    new RegExp(`the DNS server at 127\\.0\\.0\\.1:${knot.port} knows the TSIG key "padlock-acme-only\\." .* but does not let it update _acme-challenge\\.blog\\.example\\.test \\(BADKEY\\)`),
    /let the key "padlock-acme-only\." update TXT records at _acme-challenge\.blog\.example\.test in the zone's update ACL/,
  );
});

test("bad TSIG secret: BADSIG, says tsig_secret is wrong and where", async () => {
  const key = { ...knot.keys["hmac-sha256"], secret: Buffer.alloc(32, 7) };
  await expectDns01Error(
    rfc2136({ key }).present("_acme-challenge.example.test", "v"),
    "bad-tsig-key",
    /BADSIG/,
    /tsig_secret in sites\[0\]\.tls\.dns/,
    new RegExp(`127\\.0\\.0\\.1:${knot.port}`),
  );
});

test("unknown TSIG key name: BADKEY, says tsig_name is wrong and where, or that the zone does not name the key", async () => {
  const key = { ...knot.keys["hmac-sha256"], name: "no-such-key." };
  await expectDns01Error(
    rfc2136({ key }).present("_acme-challenge.example.test", "v"),
    "bad-tsig-key",
    /does not accept the TSIG key "no-such-key\." with algorithm hmac-sha256 for zone "example\.test" \(BADKEY\)/,
    /check tsig_name and tsig_algorithm in sites\[0\]\.tls\.dns/,
    /or the zone's update ACL does not name it at all/,
  );
});

test("unknown zone, configured: the server's refusal names the zone", async () => {
  await expectDns01Error(
    rfc2136({ zone: "elsewhere.test" }).present("_acme-challenge.elsewhere.test", "v"),
    "unknown-zone",
    /zone "elsewhere\.test"/,
    /NOTAUTH/,
    /sites\[0\]\.tls\.dns/,
  );
});

test("unknown zone, looked up: the server serves no zone holding the name", async () => {
  await expectDns01Error(rfc2136().present("_acme-challenge.other.test", "v"), "unknown-zone", /no zone containing _acme-challenge\.other\.test/, /REFUSED/, /set zone in sites\[0\]\.tls\.dns/);
});

test("server unreachable: names host:port", async () => {
  await expectDns01Error(
    rfc2136({ server: "127.0.0.1:1", zone: "example.test", timeoutMs: 300 }).present("_acme-challenge.example.test", "v"),
    "unreachable",
    /127\.0\.0\.1:1\b/,
    /check server in sites\[0\]\.tls\.dns/,
  );
});

test("exec hook: a script driving the same server with knsupdate adds and removes the record; its relative path starts at the config file's folder", async () => {
  await knot.writeUpdateHook(scratch);
  const provider = createDns01Provider({ provider: "exec", command: "./knot-update-hook.sh" }, configContext());
  const fqdn = "_acme-challenge.hook.example.test";
  await withTxtRecord(
    provider,
    { fqdn, value: "hook-token", visibleBy: soon() },
    async () => assert.deepEqual(await knot.txt(fqdn), ["hook-token"]),
    { onCleanupError: (err) => assert.fail(`cleanup failed: ${String(err)}`) },
  );
  assert.deepEqual(await knot.txt(fqdn), []);
});

test("exec hook exiting non-zero: the error shows its stderr and status", async () => {
  const script = path.join(scratch, "failing-hook.sh");
  await writeFile(script, '#!/bin/sh\necho "dns-api: token rejected for $2" >&2\nexit 3\n');
  await chmod(script, 0o755);
  const provider = new ExecHookProvider({ command: script, check, configKey: "sites[0].tls.dns.command" });
  await expectDns01Error(
    provider.present("_acme-challenge.example.test", "v"),
    "hook-failed",
    /exited with status 3/,
    /dns-api: token rejected for _acme-challenge\.example\.test\./,
    /sites\[0\]\.tls\.dns\.command/,
  );
});

test("exec hook that cannot be found: a relative path starts at the config file's folder, and the error says so", async () => {
  const provider = new ExecHookProvider({ command: "./no-such-hook.sh", check, cwd: scratch, configKey: "sites[0].tls.dns.command" });
  await expectDns01Error(
    provider.present("_acme-challenge.example.test", "v"),
    "hook-failed",
    /exited with status 127 \(the command runs in .*, the config file's folder: a relative path starts there\)/,
    /no-such-hook\.sh/,
  );
});

test("exec hook that hangs is stopped at its timeout", async () => {
  const provider = new ExecHookProvider({ command: "sleep 30 #", check, timeoutMs: 200 });
  await expectDns01Error(provider.present("_acme-challenge.example.test", "v"), "hook-timeout", /did not finish within 0\.2 s/);
});

test("server settings: host, host:port, [v6]:port; anything else is refused with an example", async () => {
  assert.deepEqual(parseServer("ns1.example.com"), { host: "ns1.example.com", port: 53 });
  assert.deepEqual(parseServer("192.0.2.1:5353"), { host: "192.0.2.1", port: 5353 });
  assert.deepEqual(parseServer("[2001:db8::53]:54"), { host: "2001:db8::53", port: 54 });
  assert.deepEqual(parseServer("2001:db8::53"), { host: "2001:db8::53", port: 53 });
  assert.equal(parseServer("ns1.example.com:99999"), undefined);
  assert.equal(parseServer("ns1 example.com"), undefined);
  assert.throws(
    () => rfc2136({ server: "ns1.example.com:0" }),
    (err: unknown) => err instanceof Dns01Error && err.kind === "bad-settings" && /server in sites\[0\]\.tls\.dns is "ns1\.example\.com:0"; expected host or host:port/.test(err.message),
  );
});

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
