// What `padlock serve` serves, and on which ports: the config file named by --config, else the
// one $PADLOCK_CONFIG names when it exists (the container image sets /etc/padlock/padlock.yaml),
// else a --site folder or the bundled example blog. `padlock health` works it out the same way
// to find the ports it checks.
import { existsSync } from "node:fs";
import path from "node:path";
import type { Config } from "../config/schema.js";
import { defaultStorageDir, exampleBlogDir } from "../paths.js";
import { LOCAL_NAMES } from "../config/certificate-source.js";
import { fail } from "./exit.js";
import { loadConfigOrExit } from "./config-or-exit.js";

export interface ServeTargetFlags {
  config?: string;
  site?: string;
  httpPort?: number;
  httpsPort?: number;
}

export interface ServeTarget {
  config: Config;
  /** Folder relative paths in the config are resolved against. */
  baseDir: string;
  /** The config file, read again on SIGHUP; absent when serving a folder. */
  configFile?: string;
  httpPort: number;
  httpsPort: number;
  /** Why padlock serves a folder instead of a config file, said once at start. */
  note?: string;
}

export function serveTarget(flags: ServeTargetFlags): ServeTarget {
  if (flags.config && flags.site) fail("use either --config or --site, not both (a config file lists its sites itself)");
  const fromEnvironment = process.env.PADLOCK_CONFIG || undefined;
  const file = flags.config ?? (flags.site ? undefined : fromEnvironment && existsSync(fromEnvironment) ? fromEnvironment : undefined);
  // With no config file named, padlock runs on someone's machine as themselves: ports that need
  // no privileges. $PADLOCK_CONFIG means a deployment (the container), even while the file is missing.
  const local = !flags.config && !fromEnvironment;
  const ports = (config: Config) => ({
    httpPort: flags.httpPort ?? config.http_port ?? (local ? 8080 : 80),
    httpsPort: flags.httpsPort ?? config.https_port ?? (local ? 8443 : 443),
  });
  if (file) {
    const config = loadConfigOrExit(file);
    return { config, baseDir: path.dirname(path.resolve(file)), configFile: file, ...ports(config) };
  }
  const dir = path.resolve(flags.site ?? exampleBlogDir);
  // Both http://localhost and https://localhost serve the blog: no redirect on localhost.
  const config: Config = { storage: defaultStorageDir(), sites: [{ hosts: LOCAL_NAMES, blog: dir, default: true, http: "serve" }] };
  let note: string | undefined;
  if (!flags.site) {
    note = fromEnvironment
      ? `no config file at ${path.resolve(fromEnvironment)} ($PADLOCK_CONFIG): serving the bundled example blog from ${dir}; put your padlock.yaml there to serve your sites`
      : `no config given: serving the bundled example blog from ${dir}`;
  }
  return { config, baseDir: process.cwd(), ...ports(config), note };
}
