// Challenges shared by instances through their storage, so the CA may reach whichever instance a
// load balancer picks. The solver that publishes a proof also writes its key authorization under
// challenges/<type>/ (HTTP-01 by token, TLS-ALPN-01 by name) and waits until the storage's
// change message about it came back, which every instance hears at the same moment. Each
// instance follows those messages into memory: an HTTP-01 key authorization is read once, a
// TLS-ALPN-01 challenge certificate is made from it locally, so the CA's request is answered from
// memory; one that comes before the message costs one read of storage at most (HTTP-01).
import type { Logger } from "../log.js";
import type { Storage } from "../storage/storage.js";
import type { Http01Challenges } from "./http01-challenges.js";
import { HTTP01_FOLDER, othersKeyAuthorization, TLS_ALPN01_FOLDER } from "./http01-solver.js";
import type { TlsAlpn01Challenges } from "./tls-alpn01-challenges.js";
import { createChallengeCertificate } from "./tls-alpn01-solver.js";

/** A challenge is answered this long after it was published at most (a CA validates within minutes). */
const SHARED_FOR_MS = 3600_000;
/** How long a solver waits for the message about its own write. */
const ECHO_WAIT_MS = 2_000;

/**
 * Writes a challenge's record into storage; with storage that instances share and follow, waits
 * until the change message about it came back (then the others heard it too).
 */
export async function shareChallenge(storage: Storage, key: string, record: string): Promise<void> {
  let heard!: () => void;
  const echoed = new Promise<void>((resolve) => (heard = resolve));
  const stop = await storage.watch?.(key, (changed) => changed === key && heard());
  try {
    await storage.put(key, record);
    if (!stop) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([echoed, new Promise((r) => (timer = setTimeout(r, ECHO_WAIT_MS)))]);
    clearTimeout(timer);
  } finally {
    stop?.();
  }
}

/**
 * Keeps the challenges other instances publish in this instance's memory for as long as they are
 * in storage. Nothing happens for storage that cannot be followed (a folder: the HTTP-01
 * fallback reads it). Resolves to a function that stops following.
 */
export async function followSharedChallenges(storage: Storage, http01: Http01Challenges, tlsAlpn: TlsAlpn01Challenges | undefined, log: Logger): Promise<() => void> {
  if (!storage.watch) return () => undefined;
  const expiries = new Map<string, NodeJS.Timeout>();
  const read = (key: string): Promise<string | undefined> =>
    storage.get(key).then(
      (raw) => othersKeyAuthorization(raw, SHARED_FOR_MS),
      (err: unknown) => (log.warn(`could not read the challenge ${storage.describe(key)} another instance published (${(err as Error).message})`), undefined),
    );
  const forget = (key: string) => {
    clearTimeout(expiries.get(key));
    expiries.delete(key);
    if (key.startsWith(HTTP01_FOLDER)) http01.sharedWithdrawn(key.slice(HTTP01_FOLDER.length));
    else tlsAlpn?.sharedWithdrawn(key.slice(TLS_ALPN01_FOLDER.length));
  };
  const heard = (key: string) => {
    const keyAuthorization = read(key);
    let answer: Promise<unknown>;
    if (key.startsWith(HTTP01_FOLDER)) {
      answer = keyAuthorization;
      http01.sharedPublished(key.slice(HTTP01_FOLDER.length), keyAuthorization);
    } else if (key.startsWith(TLS_ALPN01_FOLDER) && tlsAlpn) {
      const name = key.slice(TLS_ALPN01_FOLDER.length);
      const context = keyAuthorization.then(async (k) => (k === undefined ? undefined : tlsAlpn.contextFor(await createChallengeCertificate(name, k))));
      answer = context;
      tlsAlpn.sharedPublished(name, context);
    } else {
      return;
    }
    clearTimeout(expiries.get(key));
    expiries.set(key, setTimeout(() => forget(key), SHARED_FOR_MS).unref());
    void answer.then((a) => a === undefined && forget(key), () => forget(key));
  };
  const lookAgain = async () => {
    const keys = [...(await storage.list(HTTP01_FOLDER)), ...(tlsAlpn ? await storage.list(TLS_ALPN01_FOLDER) : [])];
    for (const key of expiries.keys()) if (!keys.includes(key)) forget(key);
    for (const key of keys) heard(key);
  };
  const stop = await storage.watch("challenges/", (key) => {
    if (key === undefined) void lookAgain().catch(() => undefined);
    else heard(key);
  });
  await lookAgain().catch(() => undefined);
  return () => {
    stop();
    for (const key of [...expiries.keys()]) forget(key);
  };
}
