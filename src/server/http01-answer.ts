// The HTTP-01 answer (RFC 8555 §8.3): a plain-HTTP request for
// /.well-known/acme-challenge/<token> gets the key authorization published for that token, from
// memory (no webroot, no second process). A token this process did not publish is looked up
// among those published by other instances sharing the storage (the CA may ask any of them):
// first those heard of through the storage's change messages (held here, see
// certificates/shared-challenges.ts), then through the reader the board is given at construction.
import { sendText, type Response } from "./exchange.js";

export const ACME_CHALLENGE_PREFIX = "/.well-known/acme-challenge/";

/** Tokens other instances sharing the storage published. */
export interface SharedTokens {
  lookup(token: string): Promise<string | undefined>;
}

/** The tokens the certificate manager publishes and the HTTP listener answers. */
export class Http01Challenges {
  private readonly tokens = new Map<string, string>();
  /** Published by other instances: the key authorization, being read or read. */
  private readonly others = new Map<string, Promise<string | undefined>>();

  constructor(private readonly shared?: SharedTokens) {}

  publish(token: string, keyAuthorization: string): void {
    this.tokens.set(token, keyAuthorization);
  }

  withdraw(token: string): void {
    this.tokens.delete(token);
  }

  /** Another instance published `token`. */
  sharedPublished(token: string, keyAuthorization: Promise<string | undefined>): void {
    this.others.set(token, keyAuthorization);
  }

  sharedWithdrawn(token: string): void {
    this.others.delete(token);
  }

  /** A token this process published (the answer needs no wait). */
  lookup(token: string): string | undefined {
    return this.tokens.get(token);
  }

  /** A token this process or another instance sharing the storage published. */
  async resolve(token: string): Promise<string | undefined> {
    return this.tokens.get(token) ?? (await this.others.get(token)) ?? this.shared?.lookup(token).catch(() => undefined);
  }
}

/** Sends the key authorization (200), or says there is no such token (404). Returns the 200's body length. */
export function sendKeyAuthorization(res: Response, keyAuthorization: string | undefined): number | undefined {
  if (keyAuthorization === undefined) {
    sendText(res, 404, "No such ACME challenge token.");
    return undefined;
  }
  const length = Buffer.byteLength(keyAuthorization);
  res.writeHead(200, { "content-type": "text/plain", "content-length": length });
  res.end(keyAuthorization);
  return length;
}
