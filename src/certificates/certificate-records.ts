// What `padlock certs` and the doctor know about each stored certificate: read from storage
// (certificate, meta.json, status.json), and overlaid with the running manager's live state
// when padlock runs.
import { knownCaAt } from "../config/certificate-source.js";
import type { Storage } from "../storage/storage.js";
import { readCertificateStatus } from "./certificate-status.js";
import type { NameSetStatus } from "./certificate-manager.js";
import type { OrderReason, RenewalPlan } from "./renewal-planner.js";
import { CERTIFICATES, SET_FILES, setKey } from "./store-layout.js";
import { readCertificate } from "../tls/certificate-info.js";

export interface CertificateRecord {
  names: string[];
  /** Storage folder of the set, e.g. certificates/<ca>/<set>. */
  folder: string;
  /** The CA's ACME directory URL. */
  ca: string;
  /** "staging", "production" or, for a CA padlock does not know, its host. */
  environment: string;
  /** Issuer of the certificate (distinguished name). */
  issuer: string;
  serial: string;
  notBefore: string;
  notAfter: string;
  daysLeft: number;
  nextRenewal?: string;
  renewalReason?: RenewalPlan["reason"];
  ariWindow?: { start: string; end: string };
  /** The last order for the set: when, why (new, expiring, ari-window, revoked, forced, key-damaged), how it ended. */
  lastOrder?: { at: string; reason: OrderReason; outcome: "issued" | "failed" };
  failures: number;
  lastError?: string;
  lastErrorAt?: string;
  nextRetry?: string;
  rateLimitedAt: string[];
  /** Where the renewal data comes from: the running padlock, storage alone, or (a certificate a site brings) its files. */
  source: "running" | "storage" | "files";
  /** Other folders holding the same names (in another order), not yet adopted by a running padlock. */
  duplicates?: string[];
}

interface StoredMeta {
  names?: string[];
  ca?: string;
}

const DAY_MS = 86_400_000;
// meta.json first: a set without it is no longer listed, whatever else a crash leaves behind.
const FORGOTTEN = [SET_FILES.meta, SET_FILES.cert, SET_FILES.key, SET_FILES.status, SET_FILES.order, SET_FILES.orderKey, SET_FILES.newCert];

/**
 * Every certificate in storage, sorted by first name, one per CA and name set: of folders
 * holding the same names in another order (left by an older padlock, adopted at its next
 * start), the certificate valid longest is shown, the others named in `duplicates`.
 * Unreadable sets are skipped.
 */
export async function readCertificateRecords(storage: Storage, now: number = Date.now()): Promise<CertificateRecord[]> {
  const folders = new Set((await storage.list(CERTIFICATES)).filter((k) => k.endsWith(`/${SET_FILES.meta}`)).map((k) => k.slice(0, -`/${SET_FILES.meta}`.length)));
  const records = (await Promise.all([...folders].map((folder) => readRecord(storage, folder, now)))).filter((r): r is CertificateRecord => r !== undefined);
  const bySet = new Map<string, CertificateRecord[]>();
  for (const r of records) {
    const key = `${r.ca} ${setKey(r.names)}`;
    bySet.set(key, [...(bySet.get(key) ?? []), r]);
  }
  return [...bySet.values()]
    .map((same) => {
      const [shown, ...others] = same.sort((a, b) => Date.parse(b.notAfter) - Date.parse(a.notAfter));
      return others.length ? { ...shown!, duplicates: others.map((o) => o.folder) } : shown!;
    })
    .sort((a, b) => a.names[0]!.localeCompare(b.names[0]!));
}

async function readRecord(storage: Storage, folder: string, now: number): Promise<CertificateRecord | undefined> {
  const [chain, metaRaw] = await Promise.all([storage.get(`${folder}/${SET_FILES.cert}`), storage.get(`${folder}/${SET_FILES.meta}`)]);
  if (!chain || !metaRaw) return undefined;
  let meta: StoredMeta;
  let info;
  try {
    meta = JSON.parse(metaRaw.toString("utf8")) as StoredMeta;
    info = readCertificate(chain.toString("utf8"));
  } catch {
    return undefined;
  }
  const read = await readCertificateStatus(storage, folder);
  const status = read && "problem" in read ? undefined : read;
  const ca = meta.ca ?? "";
  return {
    names: meta.names ?? info.names,
    folder,
    ca,
    environment: environmentOf(ca),
    issuer: info.issuer,
    serial: info.serial,
    notBefore: info.notBefore.toISOString(),
    notAfter: info.notAfter.toISOString(),
    daysLeft: daysLeft(info.notAfter.getTime(), now),
    nextRenewal: status?.nextRenewal,
    renewalReason: status?.renewalReason,
    ariWindow: status?.ariWindow,
    failures: status?.failures ?? 0,
    lastError: status?.lastError,
    lastErrorAt: status?.lastErrorAt,
    nextRetry: status?.nextRetry,
    rateLimitedAt: status?.rateLimitedAt ?? [],
    lastOrder: status?.lastOrder,
    source: "storage",
  };
}

/** The running manager knows better than storage when it renews next and what failed. */
export function withLiveStatus(records: CertificateRecord[], live: NameSetStatus[]): CertificateRecord[] {
  return records.map((r) => {
    const s = live.find((l) => l.folder === r.folder);
    if (!s) return r;
    return {
      ...r,
      nextRenewal: s.nextRenewal?.at.toISOString() ?? r.nextRenewal,
      renewalReason: s.nextRenewal?.reason ?? r.renewalReason,
      ariWindow: s.nextRenewal?.window ? { start: s.nextRenewal.window.start.toISOString(), end: s.nextRenewal.window.end.toISOString() } : r.ariWindow,
      failures: s.failures,
      lastError: s.failures > 0 ? s.lastError : r.lastError,
      nextRetry: s.nextRetry?.toISOString(),
      lastOrder: s.lastOrder ? { ...s.lastOrder, at: s.lastOrder.at.toISOString() } : r.lastOrder,
      source: "running",
    };
  });
}

export function daysLeft(notAfter: number, now: number): number {
  return Math.floor((notAfter - now) / DAY_MS);
}

export function environmentOf(directoryUrl: string): string {
  const known = knownCaAt(directoryUrl);
  if (known) return known.ca.staging ? "staging" : "production";
  let host = directoryUrl;
  try {
    host = new URL(directoryUrl).host;
  } catch {
    /* keep it as written */
  }
  return /staging/i.test(directoryUrl) ? `staging (${host})` : host;
}

/** Records whose name set includes NAME, or whose storage folder is NAME. */
export function recordsFor(records: CertificateRecord[], name: string): CertificateRecord[] {
  const wanted = name.toLowerCase();
  return records.filter((r) => r.names.includes(wanted) || r.folder === name || r.folder.endsWith(`/${name}`));
}

/**
 * Deletes a set's certificate, key and state, in every folder holding it; the CA account and
 * copies set aside (damaged or replaced) are never touched. Says exactly what it removed and kept.
 */
export async function forgetCertificate(storage: Storage, record: CertificateRecord): Promise<string> {
  const said: string[] = [];
  for (const folder of [record.folder, ...(record.duplicates ?? [])]) {
    if (!folder.startsWith(CERTIFICATES)) throw new Error(`refusing to delete ${folder}: not a certificate folder`);
    const present = new Set(await storage.list(`${folder}/`));
    const removed: string[] = [];
    for (const file of FORGOTTEN) {
      if (!present.delete(`${folder}/${file}`)) continue;
      await storage.delete(`${folder}/${file}`);
      removed.push(file);
    }
    const kept = [...present].map((k) => k.slice(folder.length + 1));
    said.push(`removed ${removed.join(", ")} from ${storage.describe(folder)}${kept.length ? ` (kept there: ${kept.join(", ")})` : ""}`);
  }
  return `${record.names.join(", ")}: ${said.join("; ")}; the CA account is kept`;
}
