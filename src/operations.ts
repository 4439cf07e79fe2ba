// What helps a person run padlock besides serving: the certificate status file, alerts, the
// admin socket for `padlock certs`, and the metrics endpoint. Created before the listeners (the
// edge counts requests into it), given storage after the privilege drop, and started once the
// certificate manager runs.
import type { CertificateManager } from "./certificates/certificate-manager.js";
import { observeAll, type CertificateEvent, type CertificateObserver } from "./certificates/events.js";
import { CertificateStatusWriter } from "./certificates/certificate-status.js";
import { systemClock, type Clock } from "./time/clock.js";
import { AdminServer } from "./admin/admin-server.js";
import { adminEndpointOf, describeEndpoint } from "./admin/admin-protocol.js";
import { CertificateAlerts } from "./alerts/certificate-alerts.js";
import { AlertNotifier } from "./alerts/notifier.js";
import type { Config } from "./config/schema.js";
import type { Logger } from "./log.js";
import { parseLoopbackListen } from "./config/addresses.js";
import { PadlockMetrics } from "./metrics/metrics.js";
import { MetricsServer } from "./metrics/metrics-server.js";
import type { Storage } from "./storage/storage.js";
import { storageDir } from "./storage/open-storage.js";

export class Operations {
  /** Present when the config asks for metrics. */
  readonly metrics?: PadlockMetrics;
  readonly notifier?: AlertNotifier;
  private readonly alerts?: CertificateAlerts;
  private statusWriter?: CertificateStatusWriter;
  private storage?: Storage;
  private admin?: AdminServer;
  private metricsServer?: MetricsServer;
  private manager?: CertificateManager;
  private observers: CertificateObserver;

  constructor(
    private readonly config: Config,
    private readonly baseDir: string,
    private readonly log: Logger,
    clock: Clock = systemClock,
  ) {
    if (config.metrics) this.metrics = new PadlockMetrics();
    if (config.alerts?.webhook || config.alerts?.command) {
      this.notifier = new AlertNotifier({ webhook: config.alerts.webhook, command: config.alerts.command, log, now: () => clock.now() });
      this.alerts = new CertificateAlerts(this.notifier, clock);
    }
    this.observers = this.combine();
  }

  /** For the certificate manager: every event goes to the status file, alerts and metrics. */
  readonly observe = (event: CertificateEvent): void => this.observers(event);

  /** The storage opened after the privilege drop (absent without ACME): the status file goes there. */
  useStorage(storage: Storage | undefined): void {
    if (!storage) return;
    this.storage = storage;
    this.statusWriter = new CertificateStatusWriter(storage, this.log);
    this.observers = this.combine();
  }

  /** Starts the admin socket (when certificates are managed) and the metrics endpoint (when configured). */
  async serve(manager: CertificateManager | undefined): Promise<void> {
    if (manager) await this.serveCertificates(manager);
    if (this.metrics && this.config.metrics) {
      const address = parseLoopbackListen(this.config.metrics.listen, this.config.metrics.allow_remote === true);
      if (typeof address === "string") throw new Error(`metrics.listen: ${address}`);
      this.metricsServer = await MetricsServer.start(address, this.metrics, () => this.manager);
      this.log.info(`metrics: http://${address.host.includes(":") ? `[${address.host}]` : address.host}:${this.metricsServer.port}/metrics`);
    }
  }

  /**
   * The certificate manager, from start-up or from a reload (that added the first site wanting a
   * certificate, or changed the CA's settings): the admin socket starts, or answers with it from now on.
   */
  async serveCertificates(manager: CertificateManager): Promise<void> {
    this.manager = manager;
    const storage = this.storage;
    if (!storage || this.admin) return;
    const endpoint = adminEndpointOf(this.config, this.baseDir, storageDir(this.config, this.baseDir));
    if (!endpoint) return;
    try {
      this.admin = await AdminServer.start({ endpoint, storage, manager: () => this.manager, log: this.log });
    } catch (err) {
      this.log.error(`the admin endpoint ${describeEndpoint(endpoint)} could not be opened (${(err as Error).message}); \`padlock certs\` can only read storage`);
    }
  }

  get metricsPort(): number | undefined {
    return this.metricsServer?.port;
  }

  get adminEndpoint(): string | undefined {
    return this.admin?.description;
  }

  async close(): Promise<void> {
    this.alerts?.close();
    await Promise.all([this.admin?.close(), this.metricsServer?.close(), this.notifier?.idle(), this.statusWriter?.flush()]);
  }

  private combine(): CertificateObserver {
    return observeAll([this.statusWriter?.observe, this.alerts?.observe, this.metrics?.observe], (err) =>
      this.log.error(`handling a certificate event failed: ${(err as Error).message}`),
    );
  }
}
