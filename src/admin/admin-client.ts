// `padlock certs`' side of the admin socket: one JSON request, one answer.
import http from "node:http";
import type { ErrorAnswer } from "./admin-protocol.js";

/** No padlock answers on the socket: commands that can work from storage alone do so. */
export class PadlockNotRunning extends Error {
  override name = "PadlockNotRunning";
}

export class AdminError extends Error {
  override name = "AdminError";
}

// A renewal or a revocation waits for the CA; Let's Encrypt can take a minute when busy.
const TIMEOUT_MS = 5 * 60_000;

export function adminRequest<T>(socketPath: string, method: "GET" | "POST", path: string, body?: unknown): Promise<T> {
  const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
  return new Promise((resolve, reject) => {
    const req = http.request(
      { socketPath, method, path, headers: payload ? { "content-type": "application/json", "content-length": payload.length } : {} },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("error", reject);
        res.on("end", () => {
          let parsed: unknown;
          try {
            parsed = JSON.parse(Buffer.concat(chunks).toString("utf8"));
          } catch {
            return reject(new AdminError(`the admin socket ${socketPath} answered something that is not padlock's (HTTP ${res.statusCode})`));
          }
          if (res.statusCode === 200) resolve(parsed as T);
          else reject(new AdminError((parsed as ErrorAnswer).error ?? `HTTP ${res.statusCode}`));
        });
      },
    );
    req.setTimeout(TIMEOUT_MS, () => req.destroy(new AdminError(`padlock did not answer within ${TIMEOUT_MS / 60_000} minutes`)));
    req.on("error", (err: NodeJS.ErrnoException) => {
      if (err.code === "ENOENT" || err.code === "ECONNREFUSED") reject(new PadlockNotRunning(`padlock is not running (nothing answers on ${socketPath})`));
      else if (err.code === "EACCES") reject(new AdminError(`not allowed to use the admin socket ${socketPath}: run this as the user padlock serves as (or root)`));
      else reject(err instanceof AdminError ? err : new AdminError(`the admin socket ${socketPath}: ${err.message}`));
    });
    req.end(payload);
  });
}
