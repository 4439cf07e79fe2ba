// One name set's files in storage: cert.pem (the chain), key.pem and meta.json, each checked
// when read (every PEM block parses, the chain is in order, the key matches the certificate,
// the JSON parses). A new pair arrives through a journal so that a crash at any moment leaves
// the old pair or, once finished at the next start, the new one: the order in flight
// (pending-order.json, and pending-key.pem once it is finalized), then the new chain
// (pending-cert.pem), then both are renamed into place. A set's folder is named after its
// sorted names, so the same names in another order share it.
import { createHash, createPrivateKey, X509Certificate } from "node:crypto";
import { isDamagedCopy } from "../storage/damaged-files.js";
import type { Storage } from "../storage/storage.js";
import { canonicalName, readCertificate, splitChain, type CertificateInfo } from "../tls/certificate-info.js";
import type { KeyType } from "../config/schema.js";
import type { OrderReason } from "./renewal.js";

export const SET_FILES = {
  cert: "cert.pem",
  key: "key.pem",
  meta: "meta.json",
  status: "status.json",
  order: "pending-order.json",
  orderKey: "pending-key.pem",
  newCert: "pending-cert.pem",
} as const;

export interface CertificateMeta {
  names: string[];
  ca: string;
  keyType: KeyType;
  profile?: string;
  serial: string;
  notBefore: string;
  notAfter: string;
  ariId?: string;
  replaces?: string;
  orderUrl?: string;
  issuedAt: string;
  /** Why it was ordered. */
  reason?: OrderReason;
  /** Not ordered by padlock: where it was imported from (`padlock import certbot`), and when. */
  imported?: { from: string; at: string };
}

export interface StoredCertificate {
  chainPem: string;
  keyPem: string;
  info: CertificateInfo;
  meta: CertificateMeta;
}

export interface DamagedFile {
  file: string;
  problem: string;
}

export type SetContents =
  | { kind: "none" }
  /** A new pair was being switched in (pending-cert.pem is there): finishSwitch() completes it. */
  | { kind: "switching" }
  | { kind: "damaged"; files: DamagedFile[] }
  /** `meta` is undefined when meta.json is missing, damaged (`metaProblem`) or belongs to an older certificate. */
  | { kind: "ok"; chainPem: string; keyPem: string; info: CertificateInfo; meta?: CertificateMeta; metaProblem?: string };

/** The names in one stable order, a name before its subdomains: example.com, www.example.com. */
export function sortedNames(names: string[]): string[] {
  const key = (n: string) => n.split(".").reverse().join(".");
  return [...new Set(names.map(canonicalName))].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

/** Equal for the same names in any order (and only for them). */
export function setKey(names: string[]): string {
  return sortedNames(names).join(" ");
}

/** The storage folder of a name set: readable, the same for the same names in any order, different for another set. */
export function folderName(names: string[]): string {
  const sorted = sortedNames(names);
  const primary = sorted[0]!.replace(/^\*\./, "_wildcard_.").replace(/[^a-z0-9._-]/gi, "_");
  if (sorted.length === 1) return primary;
  const hash = createHash("sha256").update([...sorted].sort().join("\n")).digest("hex").slice(0, 10);
  return `${primary}+${sorted.length - 1}-${hash}`;
}

/** The folder of a name set's files under a CA's folder: where the manager looks for them. */
export function setFolder(caId: string, names: string[]): string {
  return `certificates/${caId}/${folderName(names)}`;
}

/** The storage lock held while a set's files are ordered, stored or changed. */
export function setLockName(caId: string, folder: string): string {
  return `${caId}-${folder.split("/").pop()}`;
}

/** What is wrong with a stored chain: a block that does not parse, one cut off, or an issuer out of order. */
export function chainProblem(chainPem: string): string | undefined {
  const blocks = splitChain(chainPem);
  if (blocks.length === 0) return chainPem.trim() === "" ? "it is empty" : "it holds no complete PEM certificate (truncated, or not PEM)";
  if ((chainPem.match(/-----BEGIN CERTIFICATE-----/g) ?? []).length !== blocks.length) return "its last certificate is cut off (truncated)";
  let certs: X509Certificate[];
  try {
    certs = blocks.map((b) => new X509Certificate(b));
  } catch (err) {
    return `a certificate in it does not parse (${(err as Error).message})`;
  }
  for (let i = 0; i + 1 < certs.length; i++) {
    if (!certs[i]!.checkIssued(certs[i + 1]!) || !certs[i]!.verify(certs[i + 1]!.publicKey)) return `the chain is out of order: certificate ${i + 2} did not issue certificate ${i + 1}`;
  }
  return undefined;
}

export function keyProblem(keyPem: string): string | undefined {
  try {
    createPrivateKey(keyPem);
    return undefined;
  } catch (err) {
    return `not a readable private key (truncated, or not PEM: ${(err as Error).message})`;
  }
}

/** For a chain and key that each passed their checks. */
export function keyMatches(chainPem: string, keyPem: string): boolean {
  return new X509Certificate(splitChain(chainPem)[0]!).checkPrivateKey(createPrivateKey(keyPem));
}

/** What the key is, as a config's tls.key_type says it. */
export function keyTypeOf(keyPem: string): KeyType | undefined {
  const key = createPrivateKey(keyPem);
  const details = key.asymmetricKeyDetails ?? {};
  if (key.asymmetricKeyType === "ec") return details.namedCurve === "prime256v1" ? "ecdsa-p256" : details.namedCurve === "secp384r1" ? "ecdsa-p384" : undefined;
  if (key.asymmetricKeyType === "rsa") return (["rsa2048", "rsa3072", "rsa4096"] as const).find((t) => Number(t.slice(3)) === details.modulusLength);
  return undefined;
}

/** Reads and checks the set's pair and meta.json, without changing anything. */
export async function readSet(storage: Storage, folder: string): Promise<SetContents> {
  const [chain, key, meta, newCert] = await Promise.all([SET_FILES.cert, SET_FILES.key, SET_FILES.meta, SET_FILES.newCert].map((f) => storage.get(`${folder}/${f}`)));
  if (newCert) return { kind: "switching" };
  if (!chain && !key) return { kind: "none" };
  const chainPem = chain?.toString("utf8");
  const keyPem = key?.toString("utf8");
  const files: DamagedFile[] = [];
  if (chainPem === undefined) files.push({ file: SET_FILES.key, problem: "there is no cert.pem beside it" });
  else if (keyPem === undefined) files.push({ file: SET_FILES.cert, problem: "there is no key.pem beside it" });
  else {
    const certIssue = chainProblem(chainPem);
    const keyIssue = keyProblem(keyPem);
    if (certIssue || keyIssue) {
      // A pair is useless without either half: the sound half goes aside with the damaged one.
      files.push({ file: SET_FILES.cert, problem: certIssue ?? "it cannot be used without its damaged key.pem" });
      files.push({ file: SET_FILES.key, problem: keyIssue ?? "it cannot be used without its damaged cert.pem" });
    } else if (!keyMatches(chainPem, keyPem)) {
      files.push({ file: SET_FILES.key, problem: "it does not match the certificate in cert.pem" }, { file: SET_FILES.cert, problem: "its key (key.pem) does not match it" });
    }
  }
  if (files.length) return { kind: "damaged", files };
  const info = readCertificate(chainPem!);
  const parsed = meta === undefined ? undefined : parseMeta(meta);
  if (typeof parsed === "string") return { kind: "ok", chainPem: chainPem!, keyPem: keyPem!, info, metaProblem: parsed };
  return { kind: "ok", chainPem: chainPem!, keyPem: keyPem!, info, meta: parsed?.serial === info.serial ? parsed : undefined };
}

function parseMeta(raw: Buffer): CertificateMeta | string {
  try {
    const v = JSON.parse(raw.toString("utf8")) as Partial<CertificateMeta> | null;
    if (typeof v !== "object" || v === null || !Array.isArray(v.names) || typeof v.serial !== "string") return "not certificate metadata (names or serial missing)";
    return v as CertificateMeta;
  } catch (err) {
    return `not JSON (${(err as Error).message})`;
  }
}

/**
 * Stores a new pair so that a crash at any moment leaves the previous pair, or a journal from
 * which finishSwitch() completes the new one: both new files are written beside the old ones,
 * then renamed into place, key first.
 */
export async function switchIn(storage: Storage, folder: string, cert: StoredCertificate): Promise<void> {
  const at = (f: string) => `${folder}/${f}`;
  await storage.put(at(SET_FILES.orderKey), cert.keyPem, { secret: true });
  await storage.put(at(SET_FILES.newCert), cert.chainPem);
  await storage.move(at(SET_FILES.orderKey), at(SET_FILES.key));
  await storage.move(at(SET_FILES.newCert), at(SET_FILES.cert));
  await storage.put(at(SET_FILES.meta), JSON.stringify(cert.meta, null, 2) + "\n");
  await storage.delete(at(SET_FILES.order));
}

/**
 * Completes a switch a stopped process left half-way: pending-cert.pem goes into place with
 * the key that matches it (pending-key.pem, or key.pem when that was already renamed). Resolves
 * to the serial switched in, or to what is wrong with pending-cert.pem.
 */
export async function finishSwitch(storage: Storage, folder: string): Promise<{ serial: string } | { problem: string }> {
  const at = (f: string) => `${folder}/${f}`;
  const [newCert, newKey, key] = await Promise.all([SET_FILES.newCert, SET_FILES.orderKey, SET_FILES.key].map((f) => storage.get(at(f)).then((b) => b?.toString("utf8"))));
  const problem = chainProblem(newCert ?? "");
  if (problem) return { problem };
  const fits = (k: string | undefined) => k !== undefined && !keyProblem(k) && keyMatches(newCert!, k);
  if (fits(newKey)) await storage.move(at(SET_FILES.orderKey), at(SET_FILES.key));
  else if (!fits(key)) return { problem: "neither pending-key.pem nor key.pem matches it" };
  await storage.move(at(SET_FILES.newCert), at(SET_FILES.cert));
  return { serial: readCertificate(newCert!).serial };
}

/** An order placed but not yet stored (a crash or stop in between): resumed instead of placing a new one. */
export interface PendingOrder {
  /** Its entry in the order budget. */
  ticket: string;
  reason: OrderReason;
  /** Known once the CA created it. */
  orderUrl?: string;
  replaces?: string;
  at: string;
}

export function parsePendingOrder(raw: Buffer): PendingOrder | string {
  try {
    const v = JSON.parse(raw.toString("utf8")) as Partial<PendingOrder> | null;
    if (typeof v !== "object" || v === null || typeof v.ticket !== "string" || typeof v.reason !== "string") return "not a pending order (ticket or reason missing)";
    return v as PendingOrder;
  } catch (err) {
    return `not JSON (${(err as Error).message})`;
  }
}

/** Every set folder under a CA's folder, by the name set its certificate is for (meta.json, else cert.pem). */
export async function foldersByNameSet(storage: Storage, caFolder: string): Promise<Map<string, string[]>> {
  const folders = new Set(
    (await storage.list(`${caFolder}/`))
      .filter((k) => !isDamagedCopy(k) && (k.endsWith(`/${SET_FILES.meta}`) || k.endsWith(`/${SET_FILES.cert}`)))
      .map((k) => k.slice(0, k.lastIndexOf("/"))),
  );
  const bySet = new Map<string, string[]>();
  for (const folder of folders) {
    const names = await namesIn(storage, folder);
    if (!names) continue;
    const key = setKey(names);
    bySet.set(key, [...(bySet.get(key) ?? []), folder]);
  }
  return bySet;
}

async function namesIn(storage: Storage, folder: string): Promise<string[] | undefined> {
  const meta = await storage.get(`${folder}/${SET_FILES.meta}`);
  const parsed = meta && parseMeta(meta);
  if (parsed && typeof parsed !== "string") return parsed.names;
  const chain = await storage.get(`${folder}/${SET_FILES.cert}`);
  try {
    return chain ? readCertificate(chain.toString("utf8")).names : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Moves the files of `from` (the same names in another order) into `into`. Of two certificates
 * the one valid longer keeps the usual names; the other's files stay beside it as
 * `<file>.replaced-<UTC time>`. Resolves to what was done, in words.
 */
export async function adoptFolder(storage: Storage, from: string, into: string, now: Date): Promise<string> {
  const [theirs, ours] = await Promise.all([readSet(storage, from), readSet(storage, into)]);
  const keepTheirs = theirs.kind === "ok" && (ours.kind !== "ok" || theirs.info.notAfter > ours.info.notAfter);
  const stamp = now.toISOString().replace(/[-:]/g, "");
  const exists = async (key: string) => (await storage.get(key)) !== undefined;
  for (const key of await storage.list(`${from}/`)) {
    const name = key.slice(from.length + 1);
    if (name.includes("/")) continue;
    const target = `${into}/${name}`;
    const setFile = name === SET_FILES.cert || name === SET_FILES.key || name === SET_FILES.meta || name === SET_FILES.status;
    if (setFile && keepTheirs) {
      if (await exists(target)) await storage.move(target, `${target}.replaced-${stamp}`);
      await storage.move(key, target);
    } else {
      await storage.move(key, setFile || (await exists(target)) ? `${target}.replaced-${stamp}` : target);
    }
  }
  if (theirs.kind !== "ok") return `its files were kept beside the certificate as *.replaced-${stamp} (they hold no usable certificate)`;
  if (keepTheirs) return `its certificate ${theirs.info.serial} (valid until ${theirs.info.notAfter.toISOString()}) is now the set's${ours.kind === "ok" ? `; the one it replaces was kept as *.replaced-${stamp}` : ""}`;
  return `its older certificate ${theirs.info.serial} was kept beside the set's as *.replaced-${stamp}`;
}
