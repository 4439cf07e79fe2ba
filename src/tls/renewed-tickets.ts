// A new session ticket on every resumed connection. With the ticket keys given to Node
// (`ticketKeys`, setTicketKeys), Node decrypts a ticket without asking OpenSSL to renew it, so a
// resumed TLS 1.3 connection gets no new ticket. Browsers and OpenSSL use a TLS 1.3 ticket once;
// a returning visitor's next connection was then a full handshake, every other connection
// (bench/handshake: 50 % resumed). nginx and Caddy send a new ticket each time.
//
// The same keys and the same ticket encryption as Node's own handling (a 16-byte key name, an
// HMAC-SHA256 key and an AES-128-CBC key, the 48 bytes of `ticketKeys`), through the ticket-key
// callback of Node's secure context, whose answer can say "valid, send a new one". That callback
// is not part of Node's documented API: where it is missing, Node's own handling stays in place.
import { randomBytes } from "node:crypto";
import type tls from "node:tls";

/** The callback's answers (OpenSSL's ticket key callback return values). */
const UNKNOWN_KEY = 0;
const VALID = 1;
const VALID_RENEW = 2;

type TicketKeyCallback = (keyName: Buffer, iv: Buffer, encrypt: boolean) => [number, Buffer, Buffer, Buffer?, Buffer?];

/** The native handle of a server's own secure context, as far as used here. */
interface NativeContext {
  enableTicketKeyCallback?: () => void;
  onticketkeycallback?: TicketKeyCallback;
}

/**
 * Makes the server's own context (the one every connection starts on, so the one that encrypts
 * and decrypts its tickets, whatever certificate SNI picks) renew tickets on resumption, with the
 * 48-byte keys `keys()` returns at each use. Call again after each setSecureContext, which
 * replaces that context. False when this Node has no such callback.
 */
export function renewTicketsOnResumption(server: tls.Server, keys: () => Buffer): boolean {
  const context = (server as unknown as { _sharedCreds?: { context?: NativeContext } })._sharedCreds?.context;
  if (typeof context?.enableTicketKeyCallback !== "function") return false;
  let parts = split(keys());
  const ivs = new RandomBlocks();
  context.onticketkeycallback = (keyName, _iv, encrypt) => {
    const current = keys();
    if (current !== parts.keys) parts = split(current);
    if (encrypt) return [VALID, parts.hmac, parts.aes, parts.name, ivs.next()];
    return [keyName.equals(parts.name) ? VALID_RENEW : UNKNOWN_KEY, parts.hmac, parts.aes];
  };
  context.enableTicketKeyCallback();
  return true;
}

/**
 * Fresh random 16-byte IVs, drawn from the CSPRNG 4 KiB at a time: a randomBytes call per ticket
 * was a third of the callback's cost (two tickets per full handshake). No block is handed out
 * twice, and a pool is never written again once drawn.
 */
class RandomBlocks {
  private pool = Buffer.alloc(0);
  private at = 0;

  next(): Buffer {
    if (this.at === this.pool.length) {
      this.pool = randomBytes(4096);
      this.at = 0;
    }
    return this.pool.subarray(this.at, (this.at += 16));
  }
}

function split(keys: Buffer): { keys: Buffer; name: Buffer; hmac: Buffer; aes: Buffer } {
  return { keys, name: keys.subarray(0, 16), hmac: keys.subarray(16, 32), aes: keys.subarray(32, 48) };
}
