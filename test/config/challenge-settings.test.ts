// Config problems about proving control, reported as file:line: key: message before anything
// is ordered: a wildcard without DNS-01, DNS-01 without a provider, a bad TSIG setting.
import test from "node:test";
import assert from "node:assert/strict";
import { configProblems } from "../support/config-problems.js";

const problemsOf = configProblems;

const rfc2136 = "      dns: { provider: rfc2136, server: 127.0.0.1:53, tsig_name: k., tsig_secret: c2VjcmV0 }\n";

test("a wildcard with HTTP-01 (the default challenges) is refused, naming the line and the fix", () => {
  const problems = problemsOf("ca: letsencrypt\naccept_terms: true\nsites:\n  - hosts: [example.com, \"*.example.com\"]\n    redirect: https://example.org\n");
  assert.equal(problems.length, 1, problems.join("\n"));
  assert.match(problems[0]!, /^padlock\.yaml:4: sites\[0\]\.hosts\[1\]: "\*\.example\.com" is a wildcard, which CAs only issue through DNS-01, but this site allows http-01, tls-alpn-01; add tls: \{ challenges: \[dns-01\]/);
});

test("dns-01 without a DNS provider is refused", () => {
  const problems = problemsOf("ca: letsencrypt\naccept_terms: true\nsites:\n  - hosts: [example.com]\n    redirect: https://example.org\n    tls:\n      challenges: [dns-01]\n");
  assert.equal(problems.length, 1, problems.join("\n"));
  assert.match(problems[0]!, /^padlock\.yaml:7: sites\[0\]\.tls\.challenges: dns-01 needs a DNS provider to publish its TXT records: add tls\.dns/);
});

test("a wildcard with dns-01 and a provider is fine; so is one with no CA or on the internal CA", () => {
  assert.deepEqual(problemsOf(`ca: letsencrypt\naccept_terms: true\nsites:\n  - hosts: ["*.example.com"]\n    redirect: https://example.org\n    tls:\n      challenges: [dns-01]\n${rfc2136}`), []);
  assert.deepEqual(problemsOf("sites:\n  - hosts: [\"*.example.com\"]\n    redirect: https://example.org\n"), []);
  assert.deepEqual(problemsOf("ca: internal\nsites:\n  - hosts: [\"*.lan.test\"]\n    redirect: https://example.org\n"), []);
});

test("TSIG settings: an unknown algorithm and a secret that is not base64 are refused", () => {
  const site = "ca: letsencrypt\naccept_terms: true\nsites:\n  - hosts: [example.com]\n    redirect: https://example.org\n    tls:\n      challenges: [dns-01]\n";
  const algorithm = problemsOf(`${site}      dns: { provider: rfc2136, server: 127.0.0.1:53, tsig_name: k., tsig_algorithm: hmac-md5, tsig_secret: c2VjcmV0 }\n`);
  assert.ok(algorithm.some((p) => /^padlock\.yaml:8: sites\[0\]\.tls\.dns\.tsig_algorithm: .*"hmac-sha256"/.test(p)), algorithm.join("\n"));
  const secret = problemsOf(`${site}      dns: { provider: rfc2136, server: 127.0.0.1:53, tsig_name: k., tsig_secret: "not base64!" }\n`);
  assert.deepEqual(secret, [
    "padlock.yaml:8: sites[0].tls.dns: not an accepted value; expected a DNS provider: { provider: rfc2136, server: host:port, tsig_name, tsig_secret (base64), optional zone, tsig_algorithm, transport, nameservers } or { provider: exec, command, optional nameservers }",
  ]);
});

const dnsSite = (dns: string) =>
  `ca: letsencrypt\naccept_terms: true\nsites:\n  - hosts: [blog.example.com, "*.example.com"]\n    redirect: https://example.org\n    tls:\n      challenges: [dns-01]\n      dns:\n${dns}`;

test("a zone that does not contain a host's _acme-challenge name is refused at zone:, naming the record and the host", () => {
  const rfc = "        provider: rfc2136\n        server: 127.0.0.1:53\n        tsig_name: k.\n        tsig_secret: c2VjcmV0\n";
  assert.deepEqual(problemsOf(dnsSite(`${rfc}        zone: blog.example.com\n`)), [
    'padlock.yaml:13: sites[0].tls.dns.zone: zone "blog.example.com" does not contain _acme-challenge.example.com (for *.example.com), where the CA looks for the TXT record: set zone to the zone holding these names, or leave it out to have padlock ask the server',
  ]);
  assert.deepEqual(problemsOf(dnsSite(`${rfc}        zone: example.com.\n`)), [], "the zone holding both names, with or without its trailing dot");
  assert.deepEqual(problemsOf(dnsSite(`${rfc}        zone: _acme-challenge.blog.example.com\n`)).length, 1, "a zone of its own for one record leaves the other out");
});

test("DNS servers are checked where they are written: resolver:, server:, nameservers:", () => {
  const problems = problemsOf(
    `resolver: "ns.example.com"\n${dnsSite("        provider: rfc2136\n        server: ns1.example.com:99999\n        tsig_name: k.\n        tsig_secret: c2VjcmV0\n        nameservers: [192.0.2.53, \"ns2 example.com\"]\n")}`,
  );
  assert.deepEqual(problems, [
    'padlock.yaml:1: resolver: "ns.example.com" is not a DNS server address; write IP or IP:PORT (several separated by commas), e.g. 192.0.2.53 or 127.0.0.1:5353 or [::1]:53',
    'padlock.yaml:11: sites[0].tls.dns.server: "ns1.example.com:99999" is not a DNS server; expected host or host:port (port 1-65535), e.g. ns1.example.com:53, 192.0.2.53 or [2001:db8::53]:53',
    'padlock.yaml:14: sites[0].tls.dns.nameservers[1]: "ns2 example.com" is not a DNS server; expected host or host:port (port 1-65535), e.g. ns1.example.com:53, 192.0.2.53 or [2001:db8::53]:53',
  ]);
  assert.deepEqual(problemsOf(`resolver: "127.0.0.1:5353, [::1]:53"\n${dnsSite("        provider: exec\n        command: ./hook.sh\n        nameservers: [ns1.example.com, \"[2001:db8::53]:5353\"]\n")}`), []);
});
