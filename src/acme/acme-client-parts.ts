// The part of acme-client padlock uses: the client (JWS signing, nonces, account calls). Imported
// alone because the package's index also loads node-forge for its legacy crypto API, which costs
// start-up time and padlock never calls. (In the bundle, the client's own crypto helpers load
// lazily too: see build/acme-client-crypto.cjs.)
import type { Client as AcmeClient } from "acme-client";
import ClientModule from "acme-client/src/client.js";

export const Client = ClientModule as unknown as typeof AcmeClient;
export type Client = AcmeClient;
