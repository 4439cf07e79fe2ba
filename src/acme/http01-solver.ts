// HTTP-01 (RFC 8555 §8.3): the key authorization is served by padlock's own HTTP listener from
// memory, and also written to storage so another instance sharing it can answer the CA.
import type { Storage } from "../storage/storage.js";
import type { Http01Challenges } from "./http01-challenges.js";
import type { ChallengeSolver } from "./issuer.js";

const TOKEN = /^[A-Za-z0-9_-]+$/;

export class Http01Solver implements ChallengeSolver {
  readonly type = "http-01" as const;

  constructor(
    private readonly challenges: Http01Challenges,
    private readonly storage?: Storage,
  ) {
    if (storage) challenges.setFallback(async (token) => (TOKEN.test(token) ? (await storage.get(storageKey(token)))?.toString("utf8") : undefined));
  }

  async withProof<T>(_identifier: string, token: string, keyAuthorization: string, validate: () => Promise<T>): Promise<T> {
    this.challenges.publish(token, keyAuthorization);
    try {
      await this.storage?.put(storageKey(token), keyAuthorization);
      return await validate();
    } finally {
      this.challenges.withdraw(token);
      await this.storage?.delete(storageKey(token));
    }
  }
}

function storageKey(token: string): string {
  return `challenges/http-01/${token}`;
}
