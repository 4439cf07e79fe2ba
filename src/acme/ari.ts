// ACME Renewal Information (RFC 9773): the CA's suggested renewal window for a certificate,
// fetched from its renewalInfo endpoint by the certificate's ARI id.
import type { Window } from "../time/renewal-timing.js";
import type { CaTransport } from "./ca-transport.js";
import { parseRetryAfter } from "./problems.js";

export interface RenewalInfo {
  window: Window;
  /** When to ask again (Retry-After), if the CA said. */
  recheckAt?: Date;
}

/** GET renewalInfo/<ari id>; throws on anything unusable so the caller falls back. */
export async function fetchRenewalInfo(transport: CaTransport, renewalInfoUrl: string, ariId: string, now: number): Promise<RenewalInfo> {
  const res = await transport.request(`${renewalInfoUrl.replace(/\/$/, "")}/${ariId}`, "get");
  if (res.status !== 200) throw new Error(`the CA's renewal information (ARI) answered HTTP ${res.status}`);
  const body = res.data as { suggestedWindow?: { start?: string; end?: string } };
  const start = new Date(body?.suggestedWindow?.start ?? NaN);
  const end = new Date(body?.suggestedWindow?.end ?? NaN);
  if (Number.isNaN(start.getTime()) || Number.isNaN(end.getTime()) || end < start) {
    throw new Error("the CA's renewal information (ARI) has no valid suggestedWindow");
  }
  return { window: { start, end }, recheckAt: parseRetryAfter(res.headers["retry-after"], now) };
}
