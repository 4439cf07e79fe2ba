// Automatic HTTPS for any Node server: the certificate core (CA, storage, renewals, events)
// behind a few calls. The app's HTTPS server takes `sniCallback`, its HTTP server `http01(app)`
// (or TLS-ALPN-01 through `attachTlsAlpn(server)`); everything else runs in the background as
// in `padlock serve`, with the same storage layout and the same log lines.
import { EventEmitter } from "node:events";
import type http from "node:http";
import type tls from "node:tls";
import { revocationReason } from "../acme/revocation-reasons.js";
import { chooseCa } from "../config/certificate-source.js";
import type { ChallengeType } from "../config/schema.js";
import type { CertificateManager, NameSet } from "../certificates/certificate-manager.js";
import type { CertificateEvent } from "../certificates/events.js";
import { SharedTokens } from "../certificates/shared-tokens.js";
import { createCertificateManager } from "../certificates/start-certificates.js";
import { errorCode, PadlockError } from "../errors.js";
import { ACME_CHALLENGE_PREFIX, Http01Challenges, sendKeyAuthorization } from "../server/http01-answer.js";
import { answerTlsAlpnChallenges, TlsAlpn01Challenges } from "../server/tls-alpn-challenge-listener.js";
import { FsStorage } from "../storage/fs-storage.js";
import { systemClock } from "../time/clock.js";
import { CertificateCache } from "../tls/certificate-cache.js";
import type { CertificateFailure, CertificateInfo, CertificateStatus, ManageCertificatesOptions, ManagedCertificates } from "./api.js";
import { asLogger } from "./logger.js";

/** Starts managing certificates: installs stored ones at once, checks the CA, then orders what is missing in the background. */
export async function manageCertificates(options: ManageCertificatesOptions): Promise<ManagedCertificates> {
  const log = asLogger(options.logger);
  const ca = chooseCa(options.ca);
  if (!ca || options.ca === "internal") throw new PadlockError("CA_SETUP", `ca: "${options.ca}" is neither a CA padlock knows (letsencrypt, letsencrypt-staging, zerossl, buypass, google) nor the URL of an ACME directory`);
  const storage = await FsStorage.open(options.storage).catch(asPadlockError);
  const certificates = new CertificateCache();
  const tokens = new SharedTokens(storage, systemClock);
  const challenges = new Http01Challenges(tokens);
  const tlsAlpnChallenges = new TlsAlpn01Challenges();
  const events = new CertificateEvents();
  const manager = createCertificateManager({
    ca,
    caRoot: options.caRoot,
    email: options.email,
    acceptTerms: options.acceptTerms,
    eab: options.eab && { kid: options.eab.kid, hmac_key: options.eab.hmacKey },
    storage,
    log,
    certificates,
    challenges,
    tlsAlpnChallenges,
    sets: [],
    onEvent: (e) => events.observe(e),
  });
  await manager.start().catch(async (err: unknown) => {
    await manager.close();
    asPadlockError(err);
  });
  const nameSet = (name: string): NameSet => ({ names: [name], keyType: options.keyType, challenges: options.challenges as ChallengeType[] | undefined });
  // Ordered once the caller's servers had a chance to listen (the CA validates through them).
  if (Array.isArray(options.names)) {
    const names = options.names;
    setImmediate(() => names.forEach((n) => void manager.obtain(nameSet(n)).catch(() => undefined)));
  }
  return new Certificates(manager, certificates, challenges, tlsAlpnChallenges, events, options, nameSet);
}

/** The manager's events as the library's: installed, renewed (installed over an earlier one), failed. */
class CertificateEvents extends EventEmitter {
  private readonly installed = new Set<string>();

  observe(e: CertificateEvent): void {
    if (e.type === "installed") {
      const info: CertificateInfo = { names: e.names, serial: e.serial, notBefore: e.notBefore, notAfter: e.notAfter };
      this.emit("installed", info);
      if (this.installed.has(e.folder)) this.emit("renewed", info);
      this.installed.add(e.folder);
    } else if (e.type === "failed" && this.listenerCount("failed") > 0) {
      const failure: CertificateFailure = { names: e.names, code: errorCode(e.error), message: e.message, error: e.error, failures: e.failures, nextRetry: e.nextRetry };
      this.emit("failed", failure);
    }
  }
}

class Certificates implements ManagedCertificates {
  /** Names the `names` function was asked about, with its answer's obtain. */
  private readonly asked = new Map<string, Promise<boolean>>();

  constructor(
    private readonly manager: CertificateManager,
    private readonly certificates: CertificateCache,
    private readonly challenges: Http01Challenges,
    private readonly tlsAlpnChallenges: TlsAlpn01Challenges,
    private readonly events: CertificateEvents,
    private readonly options: ManageCertificatesOptions,
    private readonly nameSet: (name: string) => NameSet,
  ) {
    this.sniCallback = this.sniCallback.bind(this);
  }

  sniCallback(servername: string, callback: (err: Error | null, context?: tls.SecureContext) => void): void {
    const installed = this.certificates.lookup(servername);
    if (installed) return callback(null, installed.context);
    this.obtainFor(servername.toLowerCase()).then(
      (ok) => callback(ok ? null : new PadlockError("NAME_NOT_MANAGED", `no certificate is managed for ${servername}`), this.certificates.lookup(servername)?.context),
      (err: unknown) => callback(err as Error),
    );
  }

  http01(app?: (req: http.IncomingMessage, res: http.ServerResponse) => void): (req: http.IncomingMessage, res: http.ServerResponse) => void {
    return (req, res) => {
      const url = req.url ?? "/";
      if (url.startsWith(ACME_CHALLENGE_PREFIX)) {
        void this.challenges.resolve(url.slice(ACME_CHALLENGE_PREFIX.length)).then((ka) => sendKeyAuthorization(res, ka));
        return;
      }
      if (app) return app(req, res);
      const host = (req.headers.host ?? "").replace(/:\d+$/, "");
      res.writeHead(host ? 308 : 400, host ? { location: `https://${host}${url}` } : {});
      res.end();
    };
  }

  attachTlsAlpn(server: tls.Server): void {
    answerTlsAlpnChallenges(server, this.tlsAlpnChallenges);
  }

  on(event: "installed" | "renewed" | "failed", listener: (arg: never) => void): this {
    this.events.on(event, listener as (arg: unknown) => void);
    return this;
  }

  off(event: "installed" | "renewed" | "failed", listener: (...args: never[]) => void): this {
    this.events.off(event, listener as (...args: unknown[]) => void);
    return this;
  }

  async renew(name: string, options: { force?: boolean } = {}): Promise<void> {
    await this.manager.renew([name], options).catch(asPadlockError);
  }

  async revoke(name: string, reason = "unspecified"): Promise<void> {
    const found = revocationReason(reason);
    if (typeof found === "string") throw new PadlockError("INVALID_ARGUMENT", found);
    await this.manager.revoke([name], found).catch(asPadlockError);
  }

  status(): CertificateStatus[] {
    return this.manager.status().map((s) => ({ names: s.names, serial: s.serial, notAfter: s.notAfter, nextRenewal: s.nextRenewal?.at, failures: s.failures, lastError: s.lastError }));
  }

  close(): Promise<void> {
    return this.manager.close();
  }

  /** Whether `name` now has a certificate: asks `names` (once per name) and obtains it. */
  private obtainFor(name: string): Promise<boolean> {
    const decide = this.options.names;
    if (Array.isArray(decide)) return Promise.resolve(false);
    let answer = this.asked.get(name);
    if (!answer) {
      answer = Promise.resolve(decide(name)).then(async (wanted) => {
        if (wanted) await this.manager.obtain(this.nameSet(name));
        return wanted;
      });
      this.asked.set(name, answer);
      // A failure is asked again at the next handshake (the manager retries with backoff meanwhile).
      answer.catch(() => this.asked.delete(name));
    }
    return answer;
  }
}

/** Rethrows what is not a PadlockError as one, with the stable code of its kind. */
function asPadlockError(err: unknown): never {
  if (err instanceof PadlockError) throw err;
  const code = errorCode(err);
  throw code ? new PadlockError(code, (err as Error).message, { cause: err }) : err;
}
