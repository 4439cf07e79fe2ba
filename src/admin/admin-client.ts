// `padlock certs`' side of the admin socket: one JSON request, one answer.
import http from "node:http";
import { readFile } from "node:fs/promises";
import { describeEndpoint, type AdminEndpoint, type ErrorAnswer } from "./admin-protocol.js";

/** No padlock answers on the socket: commands that can work from storage alone do so. */
export class PadlockNotRunning extends Error {
  override name = "PadlockNotRunning";
}

export class AdminError extends Error {
  override name = "AdminError";
}

// A renewal or a revocation waits for the CA; Let's Encrypt can take a minute when busy.
const TIMEOUT_MS = 5 * 60_000;

export async function adminRequest<T>(endpoint: AdminEndpoint, method: "GET" | "POST", path: string, body?: unknown): Promise<T> {
  const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
  const where = describeEndpoint(endpoint);
  const headers: Record<string, string | number> = payload ? { "content-type": "application/json", "content-length": payload.length } : {};
  let target: http.RequestOptions;
  if (endpoint.kind === "tcp") {
    const token = await readFile(endpoint.tokenFile, "utf8").catch((err: NodeJS.ErrnoException) => {
      if (err.code === "ENOENT") throw new PadlockNotRunning(`padlock is not running (no admin token at ${endpoint.tokenFile})`);
      throw new AdminError(`cannot read the admin token ${endpoint.tokenFile}: ${err.message} (run this as the user padlock serves as)`);
    });
    headers.authorization = `Bearer ${token.trim()}`;
    target = { host: endpoint.host, port: endpoint.port };
  } else {
    target = { socketPath: endpoint.path };
  }
  return new Promise((resolve, reject) => {
    const req = http.request(
      { ...target, method, path, headers },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("error", reject);
        res.on("end", () => {
          let parsed: unknown;
          try {
            parsed = JSON.parse(Buffer.concat(chunks).toString("utf8"));
          } catch {
            return reject(new AdminError(`the admin endpoint ${where} answered something that is not padlock's (HTTP ${res.statusCode})`));
          }
          if (res.statusCode === 200) resolve(parsed as T);
          else reject(new AdminError((parsed as ErrorAnswer).error ?? `HTTP ${res.statusCode}`));
        });
      },
    );
    req.setTimeout(TIMEOUT_MS, () => req.destroy(new AdminError(`padlock did not answer within ${TIMEOUT_MS / 60_000} minutes`)));
    req.on("error", (err: NodeJS.ErrnoException) => {
      if (err.code === "ENOENT" || err.code === "ECONNREFUSED") reject(new PadlockNotRunning(`padlock is not running (nothing answers on ${where})`));
      else if (err.code === "EACCES") reject(new AdminError(`not allowed to use the admin socket ${where}: run this as the user padlock serves as (or root)`));
      else reject(err instanceof AdminError ? err : new AdminError(`the admin endpoint ${where}: ${err.message}`));
    });
    req.end(payload);
  });
}
