// HTTP-01 key authorizations published by the certificate manager and read by the HTTP
// listener. Held in memory: no webroot, no second process. Instances sharing a storage also
// hold the tokens the others published (heard through the storage's change messages), and find
// any other through an optional fallback lookup (the CA may reach any of them).
export class Http01Challenges {
  private readonly tokens = new Map<string, string>();
  /** Published by other instances: the key authorization, being read or read. */
  private readonly shared = new Map<string, Promise<string | undefined>>();
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

  /** Another instance published `token`. */
  sharedPublished(token: string, keyAuthorization: Promise<string | undefined>): void {
    this.shared.set(token, keyAuthorization);
  }

  sharedWithdrawn(token: string): void {
    this.shared.delete(token);
  }

  private fallbackSet?: Promise<void>;
  private markFallbackSet?: () => void;

  /**
   * A fallback will be set shortly (once storage is open): until then, lookups of unknown
   * tokens wait for it rather than answer 404 to a CA validating another instance's order.
   */
  expectFallback(): void {
    this.fallbackSet = new Promise((resolve) => (this.markFallbackSet = resolve));
  }

  /** Where to look for tokens this process did not publish itself. */
  setFallback(lookup: (token: string) => Promise<string | undefined>): void {
    this.fallback = lookup;
    this.markFallbackSet?.();
  }

  async resolve(token: string): Promise<string | undefined> {
    const own = this.tokens.get(token);
    if (own !== undefined) return own;
    const shared = await this.shared.get(token);
    if (shared !== undefined) return shared;
    if (!this.fallback && this.fallbackSet) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([this.fallbackSet, new Promise((r) => (timer = setTimeout(r, 5_000)))]);
      clearTimeout(timer);
    }
    return this.fallback?.(token).catch(() => undefined);
  }
}

export const ACME_CHALLENGE_PREFIX = "/.well-known/acme-challenge/";
