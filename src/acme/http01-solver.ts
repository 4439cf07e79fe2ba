// HTTP-01 (RFC 8555 §8.3): the key authorization is served by padlock's own HTTP listener from
// memory, and also kept where other instances sharing the storage find it (the CA may ask any of
// them); an unwritable storage never fails the challenge.
import type { ChallengeSolver } from "./issuer.js";

/** Where tokens go while the CA checks: the HTTP listener answers from there. */
export interface Http01Board {
  publish(token: string, keyAuthorization: string): void;
  withdraw(token: string): void;
}

/** Tokens kept for other instances sharing the storage. */
export interface TokenStore {
  publish(token: string, keyAuthorization: string): Promise<void>;
  withdraw(token: string): Promise<void>;
}

export class Http01Solver implements ChallengeSolver {
  readonly type = "http-01" as const;

  constructor(
    private readonly board: Http01Board,
    private readonly shared?: TokenStore,
    /** Told when the shared copy cannot be written or removed (this instance still answers). */
    private readonly onStorageError: (err: unknown) => void = () => undefined,
  ) {}

  async withProof<T>(_identifier: string, token: string, keyAuthorization: string, validate: () => Promise<T>): Promise<T> {
    this.board.publish(token, keyAuthorization);
    // The shared copy only helps other instances: the CA reaches this instance when it is the only one.
    const shared = await this.shared?.publish(token, keyAuthorization).then(
      () => true,
      (err: unknown) => (this.onStorageError(err), false),
    );
    try {
      return await validate();
    } finally {
      this.board.withdraw(token);
      if (shared) await this.shared?.withdraw(token).catch(this.onStorageError);
    }
  }
}
