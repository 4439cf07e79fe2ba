// HTTP-01 key authorizations published by the certificate manager and read by the HTTP
// listener. Held in memory: no webroot, no second process.
export class Http01Challenges {
  private readonly tokens = new Map<string, string>();

  publish(token: string, keyAuthorization: string): void {
    this.tokens.set(token, keyAuthorization);
  }

  withdraw(token: string): void {
    this.tokens.delete(token);
  }

  lookup(token: string): string | undefined {
    return this.tokens.get(token);
  }
}

export const ACME_CHALLENGE_PREFIX = "/.well-known/acme-challenge/";
