// padlock's Prometheus metrics, written in the text exposition format by hand: a dozen series
// need no library, and the request path stays a few increments on plain objects (a registry
// with label maps would cost a lookup per label per request).
import type { CaRequestOutcome } from "../acme/ca-transport.js";
import type { NameSetStatus } from "../certificates/certificate-manager.js";
import type { CertificateEvent } from "../certificates/events.js";

/** Upper bounds (seconds) of the latency histogram. */
export const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

interface SiteCounters {
  /** Requests by status class: index 1 = 1xx … 5 = 5xx. */
  byClass: number[];
  /** Cumulative-at-render, per bucket here (plus +Inf at the end). */
  buckets: number[];
  sum: number;
  count: number;
}

export class PadlockMetrics {
  private readonly sites = new Map<string, SiteCounters>();
  private readonly acme: Record<CaRequestOutcome, number> = { ok: 0, problem: 0, rate_limited: 0, unreachable: 0 };
  /** Orders ended, by name set, reason and outcome: "names\treason\toutcome" → count. */
  private readonly orders = new Map<string, number>();

  /** Counts a finished response (the edge calls this); `site` is the site's first host name. */
  recordHttp(site: string, status: number, seconds: number): void {
    let c = this.sites.get(site);
    if (!c) this.sites.set(site, (c = { byClass: [0, 0, 0, 0, 0, 0], buckets: new Array<number>(LATENCY_BUCKETS.length + 1).fill(0), sum: 0, count: 0 }));
    c.byClass[Math.min(5, Math.max(1, Math.floor(status / 100)))]!++;
    let i = 0;
    while (i < LATENCY_BUCKETS.length && seconds > LATENCY_BUCKETS[i]!) i++;
    c.buckets[i]!++;
    c.sum += seconds;
    c.count++;
  }

  readonly observe = (event: CertificateEvent): void => {
    if (event.type === "ca-request") this.acme[event.outcome]++;
    if (event.type === "ordered") {
      const key = [event.names.join(","), event.reason, event.outcome].join("\t");
      this.orders.set(key, (this.orders.get(key) ?? 0) + 1);
    }
  };

  /** The exposition, with certificate gauges from the manager's current state. */
  render(certificates: NameSetStatus[]): string {
    const out: string[] = [];
    const family = (name: string, type: string, help: string, samples: string[]) => {
      out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, ...samples);
    };
    const perSet = (pick: (s: NameSetStatus) => Date | number | undefined, name: string) =>
      certificates.flatMap((s) => {
        const v = pick(s);
        if (v === undefined) return [];
        return [`${name}{names="${label(s.names.join(","))}"} ${typeof v === "number" ? v : v.getTime() / 1000}`];
      });
    family("padlock_certificate_not_after_seconds", "gauge", "Expiry of the installed certificate (Unix time)", perSet((s) => s.notAfter, "padlock_certificate_not_after_seconds"));
    family("padlock_certificate_next_renewal_seconds", "gauge", "When the next renewal is planned (Unix time)", perSet((s) => s.nextRenewal?.at, "padlock_certificate_next_renewal_seconds"));
    family("padlock_certificate_ari_window_start_seconds", "gauge", "Start of the CA's suggested renewal window (ARI, Unix time)", perSet((s) => s.nextRenewal?.window?.start, "padlock_certificate_ari_window_start_seconds"));
    family("padlock_certificate_ari_window_end_seconds", "gauge", "End of the CA's suggested renewal window (ARI, Unix time)", perSet((s) => s.nextRenewal?.window?.end, "padlock_certificate_ari_window_end_seconds"));
    family("padlock_renewal_consecutive_failures", "gauge", "Failed attempts since the last success", perSet((s) => s.failures, "padlock_renewal_consecutive_failures"));
    family(
      "padlock_acme_requests_total",
      "counter",
      "Requests to the ACME CA by outcome",
      Object.entries(this.acme).map(([outcome, n]) => `padlock_acme_requests_total{outcome="${outcome}"} ${n}`),
    );
    family(
      "padlock_certificate_orders_total",
      "counter",
      "Certificate orders ended, by name set, reason (new, expiring, ari-window, revoked, forced, key-damaged) and outcome (issued, failed)",
      [...this.orders.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([key, n]) => {
        const [names, reason, outcome] = key.split("\t");
        return `padlock_certificate_orders_total{names="${label(names!)}",reason="${reason}",outcome="${outcome}"} ${n}`;
      }),
    );
    const sites = [...this.sites.entries()].sort(([a], [b]) => a.localeCompare(b));
    family(
      "padlock_http_requests_total",
      "counter",
      "HTTP requests answered by site and status class",
      sites.flatMap(([site, c]) => c.byClass.flatMap((n, cls) => (cls === 0 || n === 0 ? [] : [`padlock_http_requests_total{site="${label(site)}",status_class="${cls}xx"} ${n}`]))),
    );
    family(
      "padlock_http_request_duration_seconds",
      "histogram",
      "Time from request to the end of the response, by site",
      sites.flatMap(([site, c]) => {
        const s = label(site);
        let cumulative = 0;
        const lines = LATENCY_BUCKETS.map((le, i) => `padlock_http_request_duration_seconds_bucket{site="${s}",le="${le}"} ${(cumulative += c.buckets[i]!)}`);
        lines.push(`padlock_http_request_duration_seconds_bucket{site="${s}",le="+Inf"} ${c.count}`);
        lines.push(`padlock_http_request_duration_seconds_sum{site="${s}"} ${c.sum}`, `padlock_http_request_duration_seconds_count{site="${s}"} ${c.count}`);
        return lines;
      }),
    );
    return out.join("\n") + "\n";
  }
}

/** Label values escape backslash, double quote and newline. */
function label(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}
