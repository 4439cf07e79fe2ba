// HTTP-01 key authorizations published by the certificate manager and read by the HTTP
// listener. Held in memory: no webroot, no second process. Instances sharing a storage also
// find each other's tokens through an optional fallback lookup (the CA may reach any of them).
export class Http01Challenges {
  private readonly tokens = new Map<string, string>();
  private fallback?: (token: string) => Promise<string | undefined>;

  publish(token: string, keyAuthorization: string): void {
    this.tokens.set(token, keyAuthorization);
  }

  withdraw(token: string): void {
    this.tokens.delete(token);
  }

  lookup(token: string): string | undefined {
    return this.tokens.get(token);
  }

  /** Where to look for tokens this process did not publish itself. */
  setFallback(lookup: (token: string) => Promise<string | undefined>): void {
    this.fallback = lookup;
  }

  async resolve(token: string): Promise<string | undefined> {
    return this.tokens.get(token) ?? (await this.fallback?.(token).catch(() => undefined));
  }
}

export const ACME_CHALLENGE_PREFIX = "/.well-known/acme-challenge/";
