// The ACME account: an ECDSA key created once per CA and kept where the certificate store says,
// registered with the CA's terms accepted explicitly (and External Account Binding when the CA
// wants it). The account signs every request; acme-client does the JWS signing and nonce handling.
import { createHash, createPublicKey } from "node:crypto";
import { Client } from "./acme-client-parts.js";
import { createPrivateKey } from "../tls/pem.js";
import { CaSetupError, type AcmeDirectory } from "./ca-directory.js";
import type { CaResponse, CaTransport } from "./ca-transport.js";
import { AcmeProblem, parseRetryAfter, type ProblemDocument } from "./problems.js";

/** Where a CA's account is kept (the certificate store: accounts/<ca>/account.key and account.json). */
export interface AccountStore {
  /** The stored key and the URL of the account registered with it; a damaged file is set aside and left out. */
  read(): Promise<{ keyPem?: string; url?: string }>;
  writeKey(keyPem: string): Promise<void>;
  writeInfo(info: { url: string; contact: string[] }): Promise<void>;
}

export interface AccountOptions {
  store: AccountStore;
  directoryUrl: string;
  directory: AcmeDirectory;
  transport: CaTransport;
  email?: string;
  acceptTerms?: boolean;
  eab?: { kid: string; hmac_key: string };
}

/** The parts of acme-client's HTTP client this module plugs into (not in its public types). */
interface AcmeHttpClient {
  request(url: string, method: string, opts?: { data?: unknown }): Promise<CaResponse>;
  getNonce(): Promise<string>;
  signedRequest(url: string, payload: unknown, opts: { kid?: string | null }): Promise<CaResponse>;
  maxBadNonceRetries: number;
  directoryCache: unknown;
  directoryTimestamp: number;
}

// badNonce is retried with the fresh nonce the CA sends back; a CA rejecting half of all nonces
// (Pebble's PEBBLE_WFE_NONCEREJECT=50) still gets through.
const BAD_NONCE_RETRIES = 25;

export class AcmeAccount {
  private constructor(
    private readonly client: Client,
    private readonly http: AcmeHttpClient,
    readonly directory: AcmeDirectory,
    private readonly register: () => Promise<void>,
  ) {}

  static async open(o: AccountOptions): Promise<AcmeAccount> {
    if (o.directory.meta?.termsOfService !== undefined && o.acceptTerms !== true) {
      throw new CaSetupError(`the CA's terms of service (${o.directory.meta.termsOfService}) must be accepted before padlock may create an account: read them, then add accept_terms: true to the config`);
    }
    if (o.directory.meta?.externalAccountRequired && !o.eab) {
      throw new CaSetupError(`the CA at ${o.directoryUrl} requires External Account Binding: add eab: { kid: …, hmac_key: … } from the CA's dashboard`);
    }
    const stored = await o.store.read();
    let accountKey = stored.keyPem;
    if (!accountKey) {
      accountKey = createPrivateKey("ecdsa-p256");
      await o.store.writeKey(accountKey);
    }
    const contact = o.email ? [`mailto:${o.email}`] : [];
    const client = new Client({
      directoryUrl: o.directoryUrl,
      accountKey,
      accountUrl: stored.url,
      externalAccountBinding: o.eab ? { kid: o.eab.kid, hmacKey: o.eab.hmac_key } : undefined,
    });
    const http = (client as unknown as { http: AcmeHttpClient }).http;
    plugTransport(http, o.transport, o.directory);

    const register = async () => {
      // newAccount with an existing key returns that account, so this is safe to repeat.
      (client as unknown as { api: { accountUrl: string | null } }).api.accountUrl = null;
      try {
        await client.createAccount({ termsOfServiceAgreed: true, contact });
      } catch (err) {
        throw new CaSetupError(`the CA refused to create the ACME account: ${(err as Error).message}`);
      }
      await o.store.writeInfo({ url: client.getAccountUrl(), contact });
    };
    if (!stored.url) await register();
    return new AcmeAccount(client, http, o.directory, register);
  }

  get url(): string {
    return this.client.getAccountUrl();
  }

  /** A signed POST (payload null = POST-as-GET); an error answer becomes an AcmeProblem. */
  async post(url: string, payload: unknown, what: string): Promise<CaResponse> {
    let res = await this.http.signedRequest(url, payload, { kid: this.url });
    if (problemType(res) === "urn:ietf:params:acme:error:accountDoesNotExist") {
      // The CA forgot the account (a test CA restarted, or the account was deleted): register again.
      await this.register();
      res = await this.http.signedRequest(url, payload, { kid: this.url });
    }
    if (res.status >= 400) throw problemOf(res, what);
    return res;
  }

  /** Revokes a certificate this account holds (RFC 8555 §7.6); `reason` is an RFC 5280 code. */
  async revoke(chainPem: string, reason: number): Promise<void> {
    try {
      await this.client.revokeCertificate(chainPem, { reason });
    } catch (err) {
      throw new Error(`the CA refused to revoke the certificate: ${(err as Error).message}`);
    }
  }

  keyAuthorization(token: string): string {
    // The JWK thumbprint (RFC 7638): the key's required members, in lexicographic order.
    const jwk = createPublicKey((this.http as unknown as { accountKey: Buffer }).accountKey).export({ format: "jwk" });
    const required = jwk.kty === "EC" ? { crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y } : { e: jwk.e, kty: jwk.kty, n: jwk.n };
    const thumbprint = createHash("sha256").update(JSON.stringify(required)).digest("base64url");
    return `${token}.${thumbprint}`;
  }
}

function plugTransport(http: AcmeHttpClient, transport: CaTransport, directory: AcmeDirectory): void {
  http.request = (url, method, opts = {}) => transport.request(url, method, opts.data);
  const askNonce = http.getNonce.bind(http);
  http.getNonce = async () => {
    const pooled = transport.takeNonce();
    if (pooled) return pooled;
    const fresh = await askNonce();
    transport.discardNonce(fresh);
    return fresh;
  };
  http.maxBadNonceRetries = BAD_NONCE_RETRIES;
  http.directoryCache = directory;
  http.directoryTimestamp = Math.floor(Date.now() / 1000);
}

function problemType(res: CaResponse): string | undefined {
  return res.status >= 400 && typeof res.data === "object" && res.data !== null ? (res.data as ProblemDocument).type : undefined;
}

export function problemOf(res: CaResponse, what: string): AcmeProblem {
  const doc: ProblemDocument =
    typeof res.data === "object" && res.data !== null ? (res.data as ProblemDocument) : { detail: `HTTP ${res.status}: ${String(res.data).slice(0, 200)}` };
  return new AcmeProblem(doc, { status: res.status, retryAfter: parseRetryAfter(res.headers["retry-after"], Date.now()), what });
}
