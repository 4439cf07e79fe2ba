// `padlock health`: is the padlock serving this config alive? It asks padlock's HTTP port for an
// ACME challenge path (answered by padlock itself, whatever the sites are: no upstream app is
// asked, nothing is served from a site) and checks that the HTTPS port takes connections. The
// container image's HEALTHCHECK runs it, so it needs nothing the image lacks (no curl).
import http from "node:http";
import net from "node:net";
import { ACME_CHALLENGE_PREFIX } from "../server/http01-answer.js";
import { fail } from "./exit.js";
import { serveTarget, type ServeTargetFlags } from "./serve-target.js";

export interface HealthFlags extends ServeTargetFlags {
  listen?: string;
  timeout: number;
}

export async function healthCommand(flags: HealthFlags): Promise<void> {
  const { config, httpPort, httpsPort } = serveTarget(flags);
  const host = probeAddress(flags.listen ?? config.listen);
  const timeoutMs = flags.timeout * 1000;
  const url = `http://${host.includes(":") ? `[${host}]` : host}:${httpPort}${ACME_CHALLENGE_PREFIX}padlock-health`;
  try {
    const status = await answers(host, httpPort, timeoutMs);
    await accepts(host, httpsPort, timeoutMs);
    process.stdout.write(`padlock is serving: ${url} answered ${status}, port ${httpsPort} takes connections\n`);
  } catch (err) {
    fail(`not healthy: ${(err as Error).message}`, 1);
  }
}

/** Where to reach a padlock listening on `listen`: loopback when it listens on every address. */
function probeAddress(listen: string | undefined): string {
  if (!listen || listen === "0.0.0.0") return "127.0.0.1";
  if (listen === "::") return "::1";
  return listen;
}

function answers(host: string, port: number, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host, port, path: `${ACME_CHALLENGE_PREFIX}padlock-health`, agent: false, timeout: timeoutMs }, (res) => {
      res.resume();
      resolve(res.statusCode!);
    });
    req.on("timeout", () => req.destroy(new Error(`no answer on port ${port} within ${timeoutMs / 1000} s`)));
    req.on("error", (err) => reject(new Error(`nothing answers HTTP on ${host} port ${port} (${(err as NodeJS.ErrnoException).code ?? err.message})`)));
  });
}

function accepts(host: string, port: number, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port, timeout: timeoutMs }, () => {
      socket.destroy();
      resolve();
    });
    socket.on("timeout", () => socket.destroy(new Error(`port ${port} took no connection within ${timeoutMs / 1000} s`)));
    socket.on("error", (err) => reject(new Error(`nothing listens on ${host} port ${port} (${(err as NodeJS.ErrnoException).code ?? err.message})`)));
  });
}
