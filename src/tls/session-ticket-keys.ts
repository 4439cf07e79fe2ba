// Session ticket keys that change every day. A ticket lets a returning client resume its TLS
// session without a full handshake; whoever holds the key that encrypted it can read the
// session, so no key outlives its day.
//
// Each day's keys come from a chain key that is replaced every day by a one-way step (HMAC of
// the previous one), and the previous one is forgotten: a key taken from memory today opens
// today's tickets, never an earlier day's. Instances that share a starting point (the chain key
// of one day) step forward together without talking to each other; by default a process starts
// a chain of its own.
import { createHmac, hkdfSync, randomBytes } from "node:crypto";
import { runAt, systemClock, type Clock } from "../time/clock.js";

const DAY_MS = 24 * 60 * 60 * 1000;
/** Node's ticket keys: 16 bytes of key name, 16 of HMAC key, 16 of AES key. */
const TICKET_KEYS_BYTES = 48;

/** A chain key and the day (days since 1970, UTC) it belongs to. */
export interface TicketKeyChain {
  chain: Buffer;
  day: number;
}

export class SessionTicketKeys {
  private chain: Buffer;
  private day: number;
  private keys: Buffer;
  private cancel: (() => void) | undefined;

  constructor(
    start?: TicketKeyChain,
    private readonly clock: Clock = systemClock,
  ) {
    this.chain = start?.chain ?? randomBytes(32);
    this.day = start?.day ?? dayOf(clock.now());
    this.keys = keysOf(this.chain, this.day);
  }

  /** The keys for now (a clock set back keeps today's: a forgotten day cannot come back). */
  current(): Buffer {
    const today = dayOf(this.clock.now());
    if (today <= this.day) return this.keys;
    while (this.day < today) {
      this.chain = createHmac("sha256", this.chain).update("padlock: next day's ticket chain").digest();
      this.day++;
    }
    this.keys = keysOf(this.chain, this.day);
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

function dayOf(time: number): number {
  return Math.floor(time / DAY_MS);
}

function keysOf(chain: Buffer, day: number): Buffer {
  return Buffer.from(hkdfSync("sha256", chain, Buffer.from(String(day)), "padlock TLS session tickets", TICKET_KEYS_BYTES));
}
