// `padlock certs list | show | renew | revoke | forget`: through the running padlock's admin
// socket, or from storage alone when none runs. Renew and revoke need the running padlock: it
// answers the CA's challenges on its ports and installs the new certificate for the next
// handshake; a one-shot process could do neither while padlock holds the ports.
import path from "node:path";
import { fail } from "./exit.js";
import { loadConfigOrExit } from "./config-or-exit.js";
import { adminRequest, PadlockNotRunning } from "../admin/admin-client.js";
import { ADMIN_PATHS, adminEndpointOf, type ActionAnswer, type AdminEndpoint, type ListAnswer } from "../admin/admin-protocol.js";
import { forgetCertificate, readCertificateRecords, recordsFor, type CertificateRecord } from "../certificates/certificate-records.js";
import { formatCertificateDetails, formatCertificateTable } from "../admin/format-certificates.js";
import { readProvidedRecords } from "../certificates/provided-records.js";
import { providedFiles, type ProvidedFiles } from "../config/certificate-source.js";
import { revocationReason } from "../acme/revocation-reasons.js";
import { openExistingStorage, storageDir, storageSpec } from "../storage/open-storage.js";
import { redact } from "../storage/redis-settings.js";
import type { Storage } from "../storage/storage.js";
import type { Config } from "../config/schema.js";

export interface CertsFlags {
  config: string;
  json?: boolean;
  force?: boolean;
  reason?: string;
}

interface Target {
  /** Undefined for storage that is not a folder with no admin socket set: list and show read storage. */
  endpoint?: AdminEndpoint;
  /** The storage as configured (a folder path or a Redis URL), for messages. */
  storage: string;
  configFile: string;
  config: Config;
  baseDir: string;
  /** Certificates sites bring: listed from their files, never renewed, revoked or forgotten. */
  provided: ProvidedFiles[];
}

export async function certsCommand(action: "list" | "show" | "renew" | "revoke" | "forget", name: string | undefined, flags: CertsFlags): Promise<void> {
  const target = targetOf(flags.config);
  const own = name === undefined ? undefined : target.provided.find((p) => p.hosts.includes(name));
  if (own && action !== "list" && action !== "show") {
    fail(`${name} is served with the certificate its site brings (${own.at}: ${own.certificate}); padlock does not ${action} it: replace the files and padlock serves the new pair within seconds`);
  }
  try {
    switch (action) {
      case "list":
      case "show": {
        const listed = await listRecords(target);
        const provided = await readProvidedRecords(target.provided);
        for (const problem of provided.problems) process.stderr.write(`${problem}\n`);
        const records = [...listed.records, ...provided.records];
        const { running } = listed;
        if (action === "list") {
          if (flags.json) return print(JSON.stringify({ running, certificates: records }, null, 2) + "\n");
          if (!running) process.stderr.write(`padlock is not running: showing what storage holds (${target.storage})\n`);
          return print(formatCertificateTable(records, process.stdout.columns || Number(process.env.COLUMNS) || 120));
        }
        const found = recordsFor(records, name!);
        if (found.length === 0) fail(`no stored certificate for ${name}`, 1);
        return print(flags.json ? JSON.stringify(found, null, 2) + "\n" : found.map(formatCertificateDetails).join("\n"));
      }
      case "renew":
        return await act(target, ADMIN_PATHS.renew, { name, force: flags.force === true }, flags, "renew");
      case "revoke": {
        const reason = revocationReason(flags.reason ?? "unspecified");
        if (typeof reason === "string") fail(reason);
        return await act(target, ADMIN_PATHS.revoke, { name, reason: reason.name }, flags, "revoke");
      }
      case "forget":
        return await forget(target, name!, flags);
    }
  } catch (err) {
    fail((err as Error).message, 1);
  }
}

function targetOf(configFile: string): Target {
  const config = loadConfigOrExit(configFile);
  const baseDir = path.dirname(path.resolve(configFile));
  const folder = storageDir(config, baseDir);
  const endpoint = adminEndpointOf(config, baseDir, folder);
  return { endpoint, storage: folder ?? redact(storageSpec(config)), configFile, config, baseDir, provided: providedFiles(config, baseDir) };
}

async function listRecords(target: Target): Promise<{ records: CertificateRecord[]; running: boolean }> {
  if (!target.endpoint) return { records: await storedRecords(target), running: false };
  try {
    return { records: (await adminRequest<ListAnswer>(target.endpoint, "GET", ADMIN_PATHS.list)).certificates, running: true };
  } catch (err) {
    if (!(err instanceof PadlockNotRunning)) throw err;
    return { records: await storedRecords(target), running: false };
  }
}

async function storedRecords(target: Target): Promise<CertificateRecord[]> {
  return withStorage(target, async (storage) => (storage ? readCertificateRecords(storage) : []));
}

/** Runs `work` with the configured storage (undefined: a folder that does not exist yet), closed after. */
async function withStorage<T>(target: Target, work: (storage: Storage | undefined) => Promise<T>): Promise<T> {
  const storage = await openExistingStorage(target.config, target.baseDir);
  try {
    return await work(storage);
  } finally {
    await storage?.close?.();
  }
}

/** The admin endpoint, which renew, revoke and forget need. */
function endpointOf(target: Target): AdminEndpoint {
  return target.endpoint ?? fail("storage is not a folder, so there is no default admin socket: set admin: { socket: /run/padlock/admin.sock } in the config");
}

async function act(target: Target, adminPath: string, body: Record<string, unknown>, flags: CertsFlags, what: string): Promise<void> {
  try {
    const answer = await adminRequest<ActionAnswer>(endpointOf(target), "POST", adminPath, body);
    print(flags.json ? JSON.stringify(answer, null, 2) + "\n" : answer.message + "\n");
  } catch (err) {
    if (!(err instanceof PadlockNotRunning)) throw err;
    fail(`${err.message}. ${what} needs the running padlock (it answers the CA's challenges and installs the new certificate at once): start it with \`padlock serve -c ${target.configFile}\`, then run this again`, 1);
  }
}

async function forget(target: Target, name: string, flags: CertsFlags): Promise<void> {
  try {
    const answer = await adminRequest<ActionAnswer>(endpointOf(target), "POST", ADMIN_PATHS.forget, { name });
    return print(flags.json ? JSON.stringify(answer, null, 2) + "\n" : answer.message + "\n");
  } catch (err) {
    if (!(err instanceof PadlockNotRunning)) throw err;
  }
  const records = await storedRecords(target);
  const found = recordsFor(records, name);
  if (found.length === 0) fail(`no stored certificate for ${name}${records.length ? `; stored: ${records.map((r) => r.names.join(", ")).join("; ")}` : ""}`, 1);
  if (found.length > 1) fail(`${name} is in ${found.length} stored certificates (${found.map((r) => r.folder).join(", ")}); name one by its folder`, 1);
  const done = await withStorage(target, (storage) => forgetCertificate(storage!, found[0]!));
  const message = `${done}. padlock orders a new one when it next starts`;
  print(flags.json ? JSON.stringify({ message }, null, 2) + "\n" : message + "\n");
}

function print(text: string): void {
  process.stdout.write(text);
}

