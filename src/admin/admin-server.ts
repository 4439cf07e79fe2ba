// The running padlock's local admin endpoint: `padlock certs` lists, renews, revokes and forgets
// certificates through it. A Unix socket (mode 0600, created by the serving user inside the
// 0700 storage folder), so only that user and root can use it; or, with admin.listen, loopback
// TCP where every request must carry the token written to storage (0600) at start.
import http from "node:http";
import net from "node:net";
import { randomBytes, timingSafeEqual } from "node:crypto";
import { chmod, unlink } from "node:fs/promises";
import { revocationReason } from "../acme/revocation-reasons.js";
import type { CertificateManager } from "../certificates/certificate-manager.js";
import { forgetCertificate, readCertificateRecords, recordsFor, withLiveStatus, type CertificateRecord } from "../certificates/certificate-records.js";
import type { Logger } from "../log.js";
import type { Storage } from "../storage/storage.js";
import { ADMIN_PATHS, TOKEN_FILE, describeEndpoint, type ActionAnswer, type AdminEndpoint, type ErrorAnswer, type ListAnswer } from "./admin-protocol.js";

export interface AdminServerOptions {
  endpoint: AdminEndpoint;
  storage: Storage;
  /** The certificate manager now (a reload that changes the CA's settings starts a new one). */
  manager?: () => CertificateManager | undefined;
  log: Logger;
}

const MAX_BODY = 64 * 1024;

class AdminRequestError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export class AdminServer {
  private constructor(
    private readonly server: http.Server,
    readonly endpoint: AdminEndpoint,
  ) {}

  /** Undefined when another padlock sharing this storage already answers on the socket. */
  static async start(o: AdminServerOptions): Promise<AdminServer | undefined> {
    const e = o.endpoint;
    if (e.kind === "tcp") {
      const token = randomBytes(32).toString("base64url");
      await o.storage.put(TOKEN_FILE, token, { secret: true });
      const server = http.createServer((req, res) => (authorized(req, token) ? void handle(o, req, res) : send(res, 401, { error: `the admin token is missing or wrong: it is in ${e.tokenFile}` })));
      await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(e.port, e.host, () => resolve());
      });
      return new AdminServer(server, e);
    }
    const server = http.createServer((req, res) => void handle(o, req, res));
    const socketPath = e.path;
    try {
      await listen(server, socketPath);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EADDRINUSE") throw err;
      if (await answers(socketPath)) {
        o.log.warn(`admin socket ${socketPath} is answered by another padlock sharing this storage; \`padlock certs\` talks to that one`);
        return undefined;
      }
      // Left behind by a padlock that did not stop cleanly.
      await unlink(socketPath);
      await listen(server, socketPath);
    }
    await chmod(socketPath, 0o600);
    return new AdminServer(server, e);
  }

  get description(): string {
    return describeEndpoint(this.endpoint);
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
  }
}

function listen(server: http.Server, socketPath: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    // bind() creates the socket file with the umask's mode: made 0600 from the start, no other
    // user can connect in the moment before the chmod that follows.
    const umask = process.umask(0o177);
    try {
      server.listen(socketPath, () => {
        server.off("error", reject);
        resolve();
      });
    } finally {
      process.umask(umask);
    }
  });
}

function authorized(req: http.IncomingMessage, token: string): boolean {
  const given = Buffer.from(/^Bearer (.+)$/.exec(req.headers.authorization ?? "")?.[1] ?? "");
  const wanted = Buffer.from(token);
  return given.length === wanted.length && timingSafeEqual(given, wanted);
}

function answers(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(socketPath);
    socket.once("connect", () => (socket.destroy(), resolve(true)));
    socket.once("error", () => resolve(false));
  });
}

async function handle(o: AdminServerOptions, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  try {
    const answer = await route(o, req);
    send(res, 200, answer);
  } catch (err) {
    const status = err instanceof AdminRequestError ? err.status : 500;
    if (status === 500) o.log.error(`admin request ${req.method} ${req.url} failed: ${(err as Error).message}`);
    send(res, status, { error: (err as Error).message } satisfies ErrorAnswer);
  }
}

async function route(o: AdminServerOptions, req: http.IncomingMessage): Promise<ListAnswer | ActionAnswer> {
  if (req.method === "GET" && req.url === ADMIN_PATHS.list) return { certificates: await records(o) };
  if (req.method !== "POST") throw new AdminRequestError(404, `no such admin request: ${req.method} ${req.url}`);
  const body = await readJson(req);
  switch (req.url) {
    case ADMIN_PATHS.renew:
      return renew(o, body);
    case ADMIN_PATHS.revoke:
      return revoke(o, body);
    case ADMIN_PATHS.forget:
      return forget(o, body);
    default:
      throw new AdminRequestError(404, `no such admin request: POST ${req.url}`);
  }
}

async function records(o: AdminServerOptions): Promise<CertificateRecord[]> {
  return withLiveStatus(await readCertificateRecords(o.storage), o.manager?.()?.status() ?? []);
}

/** The managed name set that includes `name`, with the manager that manages it. */
function managedSet(o: AdminServerOptions, name: unknown): { names: string[]; manager: CertificateManager } {
  if (typeof name !== "string" || !name) throw new AdminRequestError(400, "a name is required");
  const manager = o.manager?.();
  const set = manager?.status().find((s) => s.names.includes(name.toLowerCase()));
  if (!manager || !set) {
    const managed = manager?.status().map((s) => s.names.join(", ")) ?? [];
    throw new AdminRequestError(404, `no site of the running padlock has ${name}${managed.length ? `; it manages: ${managed.join("; ")}` : "; it manages no certificates (no ca: in its config)"}`);
  }
  return { names: set.names, manager };
}

async function current(o: AdminServerOptions, names: string[]): Promise<CertificateRecord | undefined> {
  const folder = o.manager?.()?.status().find((s) => s.names === names)?.folder;
  return (await records(o)).find((r) => r.folder === folder);
}

async function renew(o: AdminServerOptions, body: Record<string, unknown>): Promise<ActionAnswer> {
  const { names, manager } = managedSet(o, body.name);
  const before = manager.status().find((s) => s.names === names)?.serial;
  try {
    await manager.renew(names, { force: body.force === true });
  } catch (err) {
    throw new AdminRequestError(502, (err as Error).message);
  }
  const after = await current(o, names);
  const message = after?.serial && after.serial !== before ? `${names.join(", ")}: renewed, new certificate ${after.serial} valid until ${after.notAfter}` : `${names.join(", ")}: not due for renewal (valid until ${after?.notAfter ?? "?"}); use --force to renew anyway`;
  return { message, certificate: after };
}

async function revoke(o: AdminServerOptions, body: Record<string, unknown>): Promise<ActionAnswer> {
  const { names, manager } = managedSet(o, body.name);
  const reason = revocationReason(typeof body.reason === "string" ? body.reason : "unspecified");
  if (typeof reason === "string") throw new AdminRequestError(400, reason);
  const revoked = manager.status().find((s) => s.names === names)?.serial;
  try {
    await manager.revoke(names, reason);
  } catch (err) {
    throw new AdminRequestError(502, (err as Error).message);
  }
  const after = await current(o, names);
  return { message: `${names.join(", ")}: revoked ${revoked} (${reason.name}); new certificate ${after?.serial} valid until ${after?.notAfter}`, certificate: after };
}

async function forget(o: AdminServerOptions, body: Record<string, unknown>): Promise<ActionAnswer> {
  if (typeof body.name !== "string" || !body.name) throw new AdminRequestError(400, "a name is required");
  const record = onlyRecord(await records(o), body.name);
  const done = await forgetCertificate(o.storage, record);
  return { message: `${done}. The running padlock keeps serving the certificate it loaded until it restarts, then orders a new one` };
}

export function onlyRecord(all: CertificateRecord[], name: string): CertificateRecord {
  const found = recordsFor(all, name);
  if (found.length === 0) throw new AdminRequestError(404, `no stored certificate for ${name}${all.length ? `; stored: ${all.map((r) => r.names.join(", ")).join("; ")}` : " (storage holds none)"}`);
  if (found.length > 1) throw new AdminRequestError(409, `${name} is in ${found.length} stored certificates (${found.map((r) => r.folder).join(", ")}); name one by its folder`);
  return found[0]!;
}

function readJson(req: http.IncomingMessage): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) req.destroy(new AdminRequestError(413, "request too large"));
      else chunks.push(c);
    });
    req.on("error", reject);
    req.on("end", () => {
      try {
        const v = JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}") as unknown;
        if (typeof v !== "object" || v === null) throw new Error();
        resolve(v as Record<string, unknown>);
      } catch {
        reject(new AdminRequestError(400, "the request body is not a JSON object"));
      }
    });
  });
}

function send(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}
