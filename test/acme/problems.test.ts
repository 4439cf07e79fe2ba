// Every ACME problem type gets its own plain-language cause and fix; observations are merged
// into one message (the seed's failure: a 404 from another web server).
import test from "node:test";
import assert from "node:assert/strict";
import { ACME_ERROR_PREFIX, PROBLEM_TYPES, explainAcmeProblem, observationFromDetail } from "../../src/acme/problem-catalogue.js";

// What each type's explanation must talk about: [type, pattern the cause or fix must match].
const EXPECTED: [string, RegExp][] = [
  ["accountDoesNotExist", /no account/],
  ["alreadyReplaced", /replaces/],
  ["alreadyRevoked", /already revoked/],
  ["badCSR", /certificate signing request/],
  ["badNonce", /nonce/],
  ["badPublicKey", /key/],
  ["badRevocationReason", /keyCompromise/],
  ["badSignatureAlgorithm", /signature algorithm/],
  ["caa", /CAA record/],
  ["compound", /each/],
  ["connection", /could not connect/],
  ["dns", /could not resolve/],
  ["externalAccountRequired", /eab:/],
  ["incorrectResponse", /answer to the challenge was wrong/],
  ["invalidContact", /email/],
  ["malformed", /could not parse/],
  ["orderNotReady", /finalized before/],
  ["rateLimited", /rate limit/],
  ["rejectedIdentifier", /will not issue/],
  ["serverInternal", /internal error/],
  ["tls", /TLS handshake/],
  ["unauthorized", /controls the name/],
  ["unsupportedContact", /contact URL scheme/],
  ["unsupportedIdentifier", /kind of identifier/],
  ["userActionRequired", /website/],
  ["invalidProfile", /profile/],
  ["agreementRequired", /accept_terms: true/],
  ["autoRenewalCanceled", /cancelled/],
  ["autoRenewalExpired", /end date/],
  ["autoRenewalCancellationInvalid", /cannot be cancelled/],
  ["autoRenewalRevocationNotSupported", /cannot revoke/],
];

test("each ACME problem type has its own cause and fix", () => {
  const unknown = explainAcmeProblem({ type: `${ACME_ERROR_PREFIX}noSuchType` });
  for (const [name, pattern] of EXPECTED) {
    const explained = explainAcmeProblem({ type: ACME_ERROR_PREFIX + name, detail: "d", status: 400 });
    assert.equal(explained.name, name);
    assert.notEqual(explained.cause, unknown.cause, name);
    assert.ok(explained.fix.length > 10, name);
    assert.match(`${explained.cause} ${explained.fix}`, pattern, name);
    assert.match(explained.message, new RegExp(`\\(ACME ${name}\\)\\. The CA said: "d"\\. .*Fix: `), name);
  }
  assert.deepEqual(Object.keys(PROBLEM_TYPES).sort(), EXPECTED.map(([n]) => n).sort(), "every type in the table is tested");
});

test("an unknown type or a plain problem falls back to the CA's detail", () => {
  const unknown = explainAcmeProblem({ type: "urn:example:custom", detail: "something odd" });
  assert.equal(unknown.name, "urn:example:custom");
  assert.equal(unknown.message, 'The CA reported a problem padlock does not know (ACME urn:example:custom). The CA said: "something odd". Fix: read the CA\'s detail below; padlock retries with backoff.');
  assert.equal(explainAcmeProblem({}).name, "about:blank");
});

test("the challenge fix names the identifier's URL", () => {
  const explained = explainAcmeProblem({ type: `${ACME_ERROR_PREFIX}connection`, identifier: { type: "dns", value: "blog.example" } });
  assert.match(explained.fix, /http:\/\/blog\.example\/\.well-known\/acme-challenge\/ reaches padlock/);
  assert.match(explained.message, /^blog\.example: The CA could not connect/);
  assert.match(explainAcmeProblem({ type: `${ACME_ERROR_PREFIX}connection` }).fix, /http:\/\/<name>\/\.well-known/);
});

test("a compound problem explains each subproblem with its name", () => {
  const explained = explainAcmeProblem({
    type: `${ACME_ERROR_PREFIX}compound`,
    detail: "Some identifiers failed",
    subproblems: [
      { type: `${ACME_ERROR_PREFIX}caa`, detail: "CAA forbids", identifier: { type: "dns", value: "a.example" } },
      { type: `${ACME_ERROR_PREFIX}dns`, detail: "NXDOMAIN", identifier: { type: "dns", value: "b.example" } },
    ],
  });
  assert.deepEqual(explained.subproblems.map((s) => [s.identifier, s.name]), [["a.example", "caa"], ["b.example", "dns"]]);
  assert.match(explained.message, /\[a\.example: A CAA record in DNS forbids/);
  assert.match(explained.message, /\[b\.example: The CA could not resolve the name/);
});

test("the CA's fetch is read from Let's Encrypt's and Pebble's wording", () => {
  assert.deepEqual(observationFromDetail("203.0.113.7: Invalid response from http://blog.example/.well-known/acme-challenge/abc: 404"), {
    kind: "challenge-fetch",
    by: "ca",
    url: "http://blog.example/.well-known/acme-challenge/abc",
    address: "203.0.113.7",
    status: 404,
  });
  assert.deepEqual(observationFromDetail("Invalid response from http://blog.example/.well-known/acme-challenge/abc [2001:db8::1]: 403"), {
    kind: "challenge-fetch",
    by: "ca",
    url: "http://blog.example/.well-known/acme-challenge/abc",
    address: "2001:db8::1",
    status: 403,
  });
  assert.deepEqual(observationFromDetail("Non-200 status code from HTTP: http://blog.test:5002/.well-known/acme-challenge/abc returned 404"), {
    kind: "challenge-fetch",
    by: "ca",
    url: "http://blog.test:5002/.well-known/acme-challenge/abc",
    status: 404,
  });
  assert.equal(
    observationFromDetail('The key authorization file from the server did not match this challenge. Expected "a.b" (got "<html>")')?.kind,
    "note",
  );
  assert.equal(observationFromDetail("Order not ready"), undefined);
});

test("the seed's failure: a 404 from another web server, explained with what padlock saw", () => {
  const url = "http://blog.example/.well-known/acme-challenge/Xk3";
  const explained = explainAcmeProblem(
    { type: `${ACME_ERROR_PREFIX}unauthorized`, status: 403, detail: `203.0.113.7: Invalid response from ${url}: 404`, identifier: { type: "dns", value: "blog.example" } },
    [
      { kind: "challenge-fetch", by: "padlock", url, address: "203.0.113.7", status: 404, server: "nginx" },
      { kind: "port-holder", port: 80, address: "203.0.113.7", holder: "nginx (pid 812)" },
      { kind: "dns-mismatch", name: "blog.example", resolvesTo: ["203.0.113.7"], localAddresses: ["198.51.100.4"] },
    ],
  );
  assert.equal(
    explained.message,
    "blog.example: The CA could not confirm that this server controls the name: its challenge request did not get padlock's answer (ACME unauthorized). " +
      `The CA said: "203.0.113.7: Invalid response from ${url}: 404". ` +
      `The CA fetched ${url} from 203.0.113.7 and got 404; ` +
      `padlock fetched ${url} from 203.0.113.7 and got 404 from a server that says \`Server: nginx\`; ` +
      "port 80 at that address is not padlock (it is nginx (pid 812)); " +
      "the name blog.example resolves to 203.0.113.7 while this machine has 198.51.100.4. " +
      "Fix: make sure http://blog.example/.well-known/acme-challenge/ reaches padlock on port 80: DNS pointing at this machine, port 80 open and forwarded here, and no other web server or proxy answering it (`padlock doctor` checks each).",
  );
  assert.deepEqual(explained.seen.length, 4);
});
