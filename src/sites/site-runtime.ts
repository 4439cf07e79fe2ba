// A site ready to serve: the handler built from its config, and how plain HTTP treats it.
import type { Handler } from "../server/exchange.js";
import type { Site } from "../config/schema.js";

export interface SiteRuntime {
  hosts: string[];
  config: Site;
  handle: Handler;
  /** Free timers, watchers and upstream pools. */
  close(): Promise<void>;
}
