// What the certificate manager reports as it works, for whoever listens: the status file in
// storage, alerts, metrics, the library's events. One observer per manager; it must not throw.
import type { CaRequestOutcome } from "../acme/ca-transport.js";
import type { OrderReason, RenewalPlan } from "./renewal-planner.js";

export type CertificateEvent =
  | { type: "installed"; names: string[]; folder: string; serial: string; notBefore: Date; notAfter: Date; how: string }
  | { type: "planned"; names: string[]; folder: string; plan: RenewalPlan }
  | {
      type: "failed";
      names: string[];
      folder: string;
      /** The same words as the log line. */
      message: string;
      error: unknown;
      failures: number;
      nextRetry: Date;
      current?: { serial: string; notBefore: Date; notAfter: Date };
    }
  | { type: "revoked"; names: string[]; folder: string; serial: string; reason: string }
  /** An order (or a resumed one) ended: why it was placed and whether a certificate came of it. */
  | { type: "ordered"; names: string[]; folder: string; reason: OrderReason; outcome: "issued" | "failed"; at: Date }
  | { type: "ca-request"; outcome: CaRequestOutcome };

export type CertificateObserver = (event: CertificateEvent) => void;

/** Several observers as one; one that throws does not stop the others. */
export function observeAll(observers: (CertificateObserver | undefined)[], onError: (err: unknown) => void): CertificateObserver {
  const list = observers.filter((o): o is CertificateObserver => o !== undefined);
  return (event) => {
    for (const o of list) {
      try {
        o(event);
      } catch (err) {
        onError(err);
      }
    }
  };
}
