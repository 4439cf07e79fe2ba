// Stands in for acme-client's crypto helpers (src/crypto/index.js) where acme-client's own modules
// require them, in padlock's bundle. The real module loads @peculiar/x509, whose ASN.1 schemas
// take ≈20 ms to evaluate, every time padlock starts managing certificates; yet padlock's orders
// need only getJwk (for the JWS header), and padlock makes its CSRs itself (src/acme/csr.ts).
// getJwk is given here; anything else loads the real module on first use.
"use strict";
const { createPublicKey } = require("node:crypto");

let real;
const helper = (name) => (...args) => {
  real ??= require("acme-client/src/crypto/index.js");
  return real[name](...args);
};

/** The public key as a JWK with its members sorted, as acme-client's own getJwk returns it. */
function getJwk(keyPem) {
  const jwk = createPublicKey(keyPem).export({ format: "jwk" });
  return Object.fromEntries(Object.keys(jwk).sort().map((k) => [k, jwk[k]]));
}

module.exports = {
  getJwk,
  getPemBodyAsB64u: helper("getPemBodyAsB64u"),
  readCertificateInfo: helper("readCertificateInfo"),
  readCsrDomains: helper("readCsrDomains"),
  splitPemChain: helper("splitPemChain"),
  isAlpnCertificateAuthorizationValid: helper("isAlpnCertificateAuthorizationValid"),
};
