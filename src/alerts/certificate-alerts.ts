// Which certificate events deserve an alert: a failed renewal; a certificate entering the last
// third of its life without having been renewed; the CA rate limiting or pausing the account.
// The problem and fix are the words the log and the problem catalogue use.
import type { CertificateEvent } from "../certificates/events.js";
import { isRateLimitOrPause } from "../certificates/certificate-status.js";
import { explainAcmeProblem } from "../acme/problem-catalogue.js";
import { AcmeProblem } from "../acme/problems.js";
import { runAt, type Clock } from "../time/clock.js";
import { lastThirdStart } from "../time/renewal-timing.js";
import type { AlertNotifier } from "./notifier.js";

const GENERIC_FIX = "run `padlock doctor` to see what stands in the way; padlock keeps retrying with backoff, and `padlock certs renew NAME --force` tries again at once";

interface Watched {
  serial: string;
  notAfter: Date;
  cancel: () => void;
  lastFailure?: { message: string; fix: string };
}

export class CertificateAlerts {
  private readonly watched = new Map<string, Watched>();

  constructor(
    private readonly notifier: AlertNotifier,
    private readonly clock: Clock,
  ) {}

  readonly observe = (event: CertificateEvent): void => {
    switch (event.type) {
      case "installed":
        this.watch(event.folder, event.names, event.serial, event.notBefore, event.notAfter);
        break;
      case "failed": {
        const fix = fixOf(event.error);
        const names = event.names;
        const w = this.watched.get(event.folder);
        if (w) w.lastFailure = { message: event.message, fix };
        this.notifier.send("renewal-failed", names, `getting a certificate failed (attempt ${event.failures}): ${event.message}`, fix, event.current?.notAfter);
        if (isRateLimitOrPause(event.error)) {
          const what = event.error.kind === "userActionRequired" ? "the CA has paused issuance for this account" : "the CA is rate limiting this account";
          this.notifier.send("account-limited", names, `${what}: ${event.message}`, fix, event.current?.notAfter);
        }
        if (event.current && this.inLastThird(event.current.notBefore, event.current.notAfter)) this.expiring(names, event.current.notAfter, w?.lastFailure);
        break;
      }
    }
  };

  close(): void {
    for (const w of this.watched.values()) w.cancel();
    this.watched.clear();
  }

  /** Arms an alert for the moment the certificate enters its last third, unless replaced first. */
  private watch(folder: string, names: string[], serial: string, notBefore: Date, notAfter: Date): void {
    this.watched.get(folder)?.cancel();
    const lastThird = lastThirdStart(notBefore, notAfter);
    const w: Watched = { serial, notAfter, cancel: () => undefined };
    w.cancel = runAt(this.clock, lastThird, () => {
      if (this.watched.get(folder) === w && this.clock.now() < notAfter.getTime()) this.expiring(names, notAfter, w.lastFailure);
    });
    this.watched.set(folder, w);
  }

  private inLastThird(notBefore: Date, notAfter: Date): boolean {
    return this.clock.now() >= lastThirdStart(notBefore, notAfter);
  }

  private expiring(names: string[], notAfter: Date, lastFailure?: { message: string; fix: string }): void {
    const problem = `the certificate has entered the last third of its life without being renewed; it expires ${notAfter.toISOString()}.${lastFailure ? ` Last failure: ${lastFailure.message}` : ""}`;
    this.notifier.send("expiring", names, problem, lastFailure?.fix ?? GENERIC_FIX, notAfter);
  }
}

function fixOf(err: unknown): string {
  if (err instanceof AcmeProblem) return explainAcmeProblem({ type: err.type, detail: err.detail, identifier: err.identifier ? { type: "dns", value: err.identifier } : undefined }).fix;
  return GENERIC_FIX;
}
