// Challenges other instances sharing the storage publish, held in this instance's memory, so the
// CA may reach whichever instance a load balancer picks and be answered from memory. Each
// instance follows the storage's change messages about challenges/ (shared-tokens.ts writes the
// records and waits for the message about its own): an HTTP-01 key authorization is read once,
// a TLS-ALPN-01 challenge certificate is made here from the key authorization, so the CA's
// request costs no storage round trip; one that comes before the message costs one read at most
// (the HTTP-01 board's lookup).
import { createChallengeCertificate } from "../acme/tls-alpn01-solver.js";
import type { Logger } from "../log.js";
import type { Storage } from "../storage/storage.js";
import { systemClock } from "../time/clock.js";
import { SharedTokens } from "./shared-tokens.js";
import { CHALLENGE_TOKENS, CHALLENGES, TLS_ALPN_CHALLENGES } from "./store-layout.js";

/** A challenge is answered this long after it was published at most (a CA validates within minutes). */
const SHARED_FOR_MS = 3600_000;

/** The HTTP-01 answer's board, holding other instances' tokens. */
export interface SharedHttp01Board {
  sharedPublished(token: string, keyAuthorization: Promise<string | undefined>): void;
  sharedWithdrawn(token: string): void;
}

/** The TLS-ALPN-01 listener's board, holding other instances' challenge certificates. */
export interface SharedTlsAlpnBoard {
  sharedPublished(name: string, certificate: Promise<{ keyPem: string; certPem: string } | undefined>): void;
  sharedWithdrawn(name: string): void;
}

/**
 * Keeps the challenges other instances publish on this instance's boards for as long as they are
 * in storage. Nothing happens for storage that cannot be followed (a folder: the HTTP-01 board
 * reads it on a miss). Resolves to a function that stops following.
 */
export async function followSharedChallenges(storage: Storage, boards: { http01: SharedHttp01Board; tlsAlpn?: SharedTlsAlpnBoard }, log: Logger): Promise<() => void> {
  if (!storage.watch) return () => undefined;
  const { http01, tlsAlpn } = boards;
  const records = new SharedTokens(storage, systemClock);
  const expiries = new Map<string, NodeJS.Timeout>();
  const read = (key: string): Promise<string | undefined> =>
    records.othersKeyAuthorization(key, SHARED_FOR_MS).catch((err: unknown) => {
      log.warn(`could not read the challenge ${storage.describe(key)} another instance published (${(err as Error).message})`);
      return undefined;
    });
  const forget = (key: string) => {
    clearTimeout(expiries.get(key));
    expiries.delete(key);
    if (key.startsWith(CHALLENGE_TOKENS)) http01.sharedWithdrawn(key.slice(CHALLENGE_TOKENS.length));
    else if (key.startsWith(TLS_ALPN_CHALLENGES)) tlsAlpn?.sharedWithdrawn(key.slice(TLS_ALPN_CHALLENGES.length));
  };
  const heard = (key: string) => {
    let answer: Promise<unknown>;
    if (key.startsWith(CHALLENGE_TOKENS)) {
      const keyAuthorization = read(key);
      answer = keyAuthorization;
      http01.sharedPublished(key.slice(CHALLENGE_TOKENS.length), keyAuthorization);
    } else if (key.startsWith(TLS_ALPN_CHALLENGES) && tlsAlpn) {
      const name = key.slice(TLS_ALPN_CHALLENGES.length);
      const certificate = read(key).then((k) => (k === undefined ? undefined : createChallengeCertificate(name, k)));
      answer = certificate;
      tlsAlpn.sharedPublished(name, certificate);
    } else {
      return;
    }
    clearTimeout(expiries.get(key));
    expiries.set(key, setTimeout(() => forget(key), SHARED_FOR_MS).unref());
    void answer.then(
      (a) => a === undefined && forget(key),
      () => forget(key),
    );
  };
  const lookAgain = async () => {
    const keys = [...(await storage.list(CHALLENGE_TOKENS)), ...(tlsAlpn ? await storage.list(TLS_ALPN_CHALLENGES) : [])];
    for (const key of expiries.keys()) if (!keys.includes(key)) forget(key);
    for (const key of keys) heard(key);
  };
  const stop = await storage.watch(CHALLENGES, (key) => {
    if (key === undefined) void lookAgain().catch(() => undefined);
    else heard(key);
  });
  await lookAgain().catch(() => undefined);
  return () => {
    stop();
    for (const key of [...expiries.keys()]) forget(key);
  };
}
