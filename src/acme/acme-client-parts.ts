// The two parts of acme-client padlock uses: the client (JWS signing, nonces, account calls) and
// its crypto helpers (JWK, CSR). Imported one by one because the package's index also loads
// node-forge for its legacy crypto API, which costs start-up time and padlock never calls.
import type { Client as AcmeClient, crypto as acmeCrypto } from "acme-client";
import ClientModule from "acme-client/src/client.js";
import cryptoModule from "acme-client/src/crypto/index.js";

export const Client = ClientModule as unknown as typeof AcmeClient;
export type Client = AcmeClient;
export const crypto = cryptoModule as unknown as typeof acmeCrypto;
