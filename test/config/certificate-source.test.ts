// The certificate-source rule on its own: which sites get their certificate from the ACME CA,
// from padlock's internal CA, or from nowhere; the default challenges; the CAs padlock knows.
import test from "node:test";
import assert from "node:assert/strict";
import { allowedChallenges, certificateSource, chooseCa, internalNameSets, knownCaAt, stagingOf } from "../../src/config/certificate-source.js";
import type { Config } from "../../src/config/schema.js";

const site = (hosts: string[], tls?: object) => ({ hosts, static: ".", ...(tls ? { tls } : {}) });

test("which sites the internal CA serves", () => {
  assert.deepEqual(internalNameSets({ sites: [site(["localhost", "127.0.0.1", "::1"])] }), [["localhost", "127.0.0.1", "::1"]]);
  assert.deepEqual(internalNameSets({ sites: [site(["blog.localhost"]), site(["example.com"])] }), [["blog.localhost"]]);
  assert.deepEqual(internalNameSets({ sites: [site(["wiki.lan"], { internal: true }), site(["localhost"], { enabled: false })] }), [["wiki.lan"]]);
  assert.deepEqual(internalNameSets({ ca: "internal", sites: [site(["example.com"])] }), [["example.com"]]);
  assert.deepEqual(internalNameSets({ sites: [site(["localhost"], { internal: false })] }), []);
  // Loopback-only sites with a public CA (which would refuse them) stay internal; a private ACME
  // CA given by URL (Pebble, a company CA) is asked for them like for any name.
  assert.deepEqual(internalNameSets({ ca: "letsencrypt", sites: [site(["localhost", "127.0.0.1"])] }), [["localhost", "127.0.0.1"]]);
  assert.deepEqual(internalNameSets({ ca: "https://ca.example/directory", sites: [site(["localhost", "127.0.0.1"])] }), []);
});

test("every site has one source: the ACME CA, the internal CA, or none", () => {
  const sources = (config: Config) => config.sites.map((s) => certificateSource(config, s));
  const sites = [site(["example.com"]), site(["localhost"]), site(["wiki.lan"], { internal: true }), site(["off.example.com"], { enabled: false })];
  assert.deepEqual(sources({ ca: "letsencrypt", sites }), ["acme", "internal", "internal", "none"]);
  assert.deepEqual(sources({ ca: "https://ca.example/directory", sites }), ["acme", "acme", "internal", "none"]);
  assert.deepEqual(sources({ ca: "internal", sites }), ["internal", "internal", "internal", "none"]);
  assert.deepEqual(sources({ sites }), ["none", "internal", "internal", "none"], "without a CA only local and internal names get certificates");
  assert.deepEqual(sources({ ca: "internal", sites: [site(["example.com"], { internal: false })] }), ["none"]);
});

test("challenges default to HTTP-01 then TLS-ALPN-01; known CAs by name, any URL otherwise", () => {
  assert.deepEqual(allowedChallenges(site(["example.com"])), ["http-01", "tls-alpn-01"]);
  assert.deepEqual(allowedChallenges(site(["example.com"], { challenges: ["dns-01"] })), ["dns-01"]);
  const le = chooseCa("letsencrypt")!;
  assert.equal(le.publicCa, true);
  assert.equal(stagingOf(le)?.label, "letsencrypt-staging");
  assert.equal(knownCaAt(le.directoryUrl)?.name, "letsencrypt");
  assert.equal(stagingOf(chooseCa("zerossl")!), undefined);
  assert.deepEqual(chooseCa("https://ca.example/directory"), { directoryUrl: "https://ca.example/directory", label: "https://ca.example/directory", publicCa: false, requiresEab: false, staging: false });
  for (const notACa of ["internal", "constructor", "letsencrpyt"]) assert.equal(chooseCa(notACa), undefined, notACa);
});
