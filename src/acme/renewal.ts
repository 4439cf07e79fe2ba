// Why a certificate is replaced and when its renewal is planned: the words the log, `padlock
// certs`, the status file and the metrics share.
import type { Window } from "../time/renewal-timing.js";

/**
 * Why a certificate is replaced, in the log line, `padlock certs show` and the metrics labels:
 * it nears its end (two thirds of its life), the CA's ARI window says so, it was revoked, a
 * person forced it, or its stored key (or certificate) was damaged.
 */
export type RenewalReason = "expiring" | "ari-window" | "revoked" | "forced" | "key-damaged";

/** Why an order is placed: a renewal's reason, or "new" when there was no usable certificate. */
export type OrderReason = RenewalReason | "new";

export interface RenewalPlan {
  at: Date;
  /** The reason the renewal will carry when it comes. */
  reason: "ari-window" | "expiring";
  window?: Window;
}
