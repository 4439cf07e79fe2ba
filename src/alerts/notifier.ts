// Sends alerts to the configured webhook (a JSON POST) and/or command (with PADLOCK_* variables),
// at most once per name set, event and UTC day. A notifier that fails is logged; it never
// throws into the certificate manager.
import { spawn } from "node:child_process";
import type { Logger } from "../log.js";

export type AlertEvent = "renewal-failed" | "expiring" | "account-limited";

export interface Alert {
  event: AlertEvent;
  names: string[];
  /** What is wrong, in the words of the log. */
  problem: string;
  fix: string;
  /** names, problem and fix as one line. */
  message: string;
  time: string;
  notAfter?: string;
}

export interface NotifierOptions {
  webhook?: string;
  command?: string;
  log: Logger;
  now?: () => number;
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 10_000;

export class AlertNotifier {
  private readonly sent = new Set<string>();
  private readonly now: () => number;
  private readonly timeoutMs: number;
  private readonly pending = new Set<Promise<void>>();

  constructor(private readonly o: NotifierOptions) {
    this.now = o.now ?? Date.now;
    this.timeoutMs = o.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  /** Queues the alert unless the same one went out today. */
  send(event: AlertEvent, names: string[], problem: string, fix: string, notAfter?: Date): void {
    const time = new Date(this.now()).toISOString();
    const key = `${names.join(",")}|${event}|${time.slice(0, 10)}`;
    if (this.sent.has(key)) return;
    this.sent.add(key);
    const alert: Alert = { event, names, problem, fix, message: `${names.join(", ")}: ${problem} Fix: ${fix}`, time, notAfter: notAfter?.toISOString() };
    this.o.log.warn({ alert: event, names }, `alert (${event}) sent: ${alert.message}`);
    const delivery = Promise.all([this.o.webhook && this.post(this.o.webhook, alert), this.o.command && this.run(this.o.command, alert)]).then(() => undefined);
    this.pending.add(delivery);
    void delivery.finally(() => this.pending.delete(delivery));
  }

  /** Waits for deliveries in progress (on shutdown, and in tests). */
  async idle(): Promise<void> {
    await Promise.all(this.pending);
  }

  private async post(url: string, alert: Alert): Promise<void> {
    try {
      const res = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json", "user-agent": "padlock-alerts" },
        body: JSON.stringify(alert),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      await res.body?.cancel();
      if (!res.ok) this.o.log.error(`alert webhook ${url} answered HTTP ${res.status}; the alert "${alert.event}" for ${alert.names.join(", ")} may not have arrived`);
    } catch (err) {
      const e = err as Error & { cause?: Error };
      const why = e.name === "TimeoutError" ? `no answer within ${this.timeoutMs / 1000} s` : (e.cause?.message ?? e.message);
      this.o.log.error(`alert webhook ${url} failed: ${why}; the alert "${alert.event}" for ${alert.names.join(", ")} was not delivered`);
    }
  }

  private run(command: string, alert: Alert): Promise<void> {
    return new Promise((resolve) => {
      const child = spawn("/bin/sh", ["-c", command], {
        stdio: ["ignore", "ignore", "pipe"],
        env: {
          ...process.env,
          PADLOCK_EVENT: alert.event,
          PADLOCK_NAMES: alert.names.join(" "),
          PADLOCK_MESSAGE: alert.message,
          PADLOCK_PROBLEM: alert.problem,
          PADLOCK_FIX: alert.fix,
        },
      });
      let stderr = "";
      child.stderr!.on("data", (d: Buffer) => (stderr = (stderr + d.toString()).slice(-500)));
      const timer = setTimeout(() => child.kill("SIGKILL"), this.timeoutMs);
      child.once("error", (err) => {
        clearTimeout(timer);
        this.o.log.error(`alert command \`${command}\` could not start: ${err.message}`);
        resolve();
      });
      child.once("close", (code, signal) => {
        clearTimeout(timer);
        if (code !== 0) {
          const how = signal ? `was killed after ${this.timeoutMs / 1000} s` : `exited with ${code}`;
          this.o.log.error(`alert command \`${command}\` ${how}${stderr.trim() ? `: ${stderr.trim()}` : ""}`);
        }
        resolve();
      });
    });
  }
}
