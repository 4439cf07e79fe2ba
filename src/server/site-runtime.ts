// A site ready to serve: the handler built from its config, and how plain HTTP treats it.
import type { Handler, UpgradeHandler } from "./exchange.js";
import type { Site } from "../config/schema.js";

export interface SiteRuntime {
  hosts: string[];
  config: Site;
  handle: Handler;
  /** HTTP/1.1 Upgrade (WebSocket) requests; sites without it answer 404 to them. */
  upgrade?: UpgradeHandler;
  /** Free timers, watchers and upstream pools. */
  close(): Promise<void>;
}
