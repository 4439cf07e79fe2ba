// Placeholder until the blog engine lands.
import type { Handler } from "../server/exchange.js";
import type { Logger } from "../log.js";

export interface BlogOptions {
  dir: string;
  /** Endpoints a site names in its config (route name → path), usable in url_for. */
  namedRoutes: Record<string, string>;
  log: Logger;
  watch?: boolean;
}

export interface Blog {
  handle: Handler;
  close(): Promise<void>;
}

export async function openBlog(_options: BlogOptions): Promise<Blog> {
  throw new Error("the blog engine is not built yet");
}
