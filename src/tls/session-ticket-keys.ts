// Session ticket keys that change every day. A ticket lets a returning client resume its TLS
// session without a full handshake; whoever holds the key that encrypted it can read the
// session, so the key must not live for the life of the process.
//
// The keys of each day are derived from one secret and the day's number (HKDF), so instances
// that share the secret switch keys together without talking to each other; with a secret of
// its own (the default), a process simply gets fresh keys every day.
import { hkdfSync, randomBytes } from "node:crypto";
import { runAt, systemClock, type Clock } from "../acme/renewal.js";

const DAY_MS = 24 * 60 * 60 * 1000;
/** Node's ticket keys: 16 bytes of key name, 16 of HMAC key, 16 of AES key. */
const TICKET_KEYS_BYTES = 48;

export class SessionTicketKeys {
  private day = -1;
  private keys = Buffer.alloc(0);
  private cancel: (() => void) | undefined;

  constructor(
    private readonly secret: Buffer = randomBytes(32),
    private readonly clock: Clock = systemClock,
  ) {}

  /** The keys for now. */
  current(): Buffer {
    const day = Math.floor(this.clock.now() / DAY_MS);
    if (day !== this.day) {
      this.day = day;
      this.keys = Buffer.from(hkdfSync("sha256", this.secret, Buffer.from(String(day)), "padlock TLS session tickets", TICKET_KEYS_BYTES));
    }
    return this.keys;
  }

  /** Calls `apply` with the keys now and again at every day's change, until stop(). */
  rotate(apply: (keys: Buffer) => void): void {
    apply(this.current());
    this.cancel = runAt(this.clock, (this.day + 1) * DAY_MS, () => this.rotate(apply));
  }

  stop(): void {
    this.cancel?.();
  }
}
