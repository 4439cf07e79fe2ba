// One name set's files in storage: cert.pem (the chain), key.pem and meta.json, each checked
// when read (every PEM block parses, the chain is in order, the key matches the certificate,
// the JSON parses). A new pair arrives through a journal so that a crash at any moment leaves
// the old pair or, once finished at the next start, the new one: the order in flight
// (pending-order.json, and pending-key.pem once it is finalized), then the new chain
// (pending-cert.pem), then both are renamed into place.
//
// Checking a pair takes OpenSSL about 1.5 ms (parsing the key most of it), which for thousands of
// sets was most of the start-up. So when padlock writes a pair it checked, meta.json records a
// digest of the exact bytes of both files and of what it says about them (`checked`); a set whose
// files still have those bytes is read from meta.json without parsing anything. Any change to a
// file, damage included, changes the digest and the set gets the full check.
import { createHash } from "node:crypto";
import { isDamagedCopy } from "../storage/damaged-files.js";
import type { Storage } from "../storage/storage.js";
import type { KeyType } from "../config/schema.js";
import { covers, infoFromMeta, readCertificate, type CertificateInfo } from "../tls/certificate-info.js";
import { chainProblem, keyMatches, keyProblem, keyTypeOf, readChain, readKey } from "../tls/pem.js";
import type { OrderReason } from "./renewal-planner.js";
import { setKey, SET_FILES } from "./store-layout.js";

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
  /** The digest of a pair padlock checked when it wrote it (see pairDigest). */
  checked?: string;
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

/** Reads and checks the set's pair and meta.json, without changing anything. */
export async function readSet(storage: Storage, folder: string): Promise<SetContents> {
  const [chainFile, keyFile, meta, newCert] = await Promise.all([SET_FILES.cert, SET_FILES.key, SET_FILES.meta, SET_FILES.newCert].map((f) => storage.get(`${folder}/${f}`)));
  if (newCert) return { kind: "switching" };
  if (!chainFile && !keyFile) return { kind: "none" };
  if (!chainFile) return { kind: "damaged", files: [{ file: SET_FILES.key, problem: "there is no cert.pem beside it" }] };
  if (!keyFile) return { kind: "damaged", files: [{ file: SET_FILES.cert, problem: "there is no key.pem beside it" }] };
  const chainPem = chainFile.toString("utf8");
  const keyPem = keyFile.toString("utf8");
  const parsed = meta === undefined ? undefined : parseMeta(meta);
  if (typeof parsed === "object" && parsed.checked !== undefined && parsed.checked === pairDigest(chainPem, keyPem, parsed)) {
    return { kind: "ok", chainPem, keyPem, info: infoFromMeta(chainPem, parsed), meta: parsed };
  }
  // Each file is parsed once: with thousands of sets, parsing is most of the start-up.
  const chain = readChain(chainPem);
  const key = readKey(keyPem);
  if (typeof chain === "string" || typeof key === "string") {
    // A pair is useless without either half: the sound half goes aside with the damaged one.
    return {
      kind: "damaged",
      files: [
        { file: SET_FILES.cert, problem: typeof chain === "string" ? chain : "it cannot be used without its damaged key.pem" },
        { file: SET_FILES.key, problem: typeof key === "string" ? key : "it cannot be used without its damaged cert.pem" },
      ],
    };
  }
  if (!keyMatches(chain[0]!, key)) {
    return { kind: "damaged", files: [{ file: SET_FILES.key, problem: "it does not match the certificate in cert.pem" }, { file: SET_FILES.cert, problem: "its key (key.pem) does not match it" }] };
  }
  // meta.json keeps the ARI identifier, which otherwise takes a full ASN.1 parse to find.
  const info = readCertificate(chainPem, { leaf: chain[0], meta: typeof parsed === "object" ? parsed : undefined });
  if (typeof parsed === "string") return { kind: "ok", chainPem, keyPem, info, metaProblem: parsed };
  return { kind: "ok", chainPem, keyPem, info, meta: parsed?.serial === info.serial ? parsed : undefined };
}

/** What a name set is, for a meta.json written again from its certificate. */
export interface SetDescription {
  names: string[];
  keyType: KeyType;
  profile?: string;
}

/** The stored pair with its meta.json; when that is missing, damaged or stale, one made from the certificate. */
export function storedCertificate(contents: Extract<SetContents, { kind: "ok" }>, set: SetDescription, directoryUrl: string): StoredCertificate {
  const { chainPem, keyPem, info } = contents;
  if (contents.meta) return { chainPem, keyPem, info, meta: contents.meta };
  const keyType = keyTypeOf(keyPem);
  const meta: CertificateMeta = {
    names: set.names,
    ca: directoryUrl,
    keyType: keyType ?? set.keyType,
    profile: set.profile,
    serial: info.serial,
    notBefore: info.notBefore.toISOString(),
    notAfter: info.notAfter.toISOString(),
    ariId: info.ariId,
    issuedAt: info.notBefore.toISOString(),
  };
  // The pair passed its check in readSet; what this meta.json says of it must be so too.
  if (keyType && covers(info.names, set.names)) meta.checked = pairDigest(chainPem, keyPem, meta);
  return { chainPem, keyPem, info, meta };
}

/**
 * The digest meta.json's `checked` holds: of both files' bytes and of what meta.json says about
 * them that loading trusts (names, serial, validity, key type).
 */
export function pairDigest(chainPem: string, keyPem: string, meta: Pick<CertificateMeta, "names" | "serial" | "notBefore" | "notAfter" | "keyType">): string {
  const said = JSON.stringify([meta.names, meta.serial, meta.notBefore, meta.notAfter, meta.keyType]);
  return createHash("sha256").update(chainPem).update("\0").update(keyPem).update("\0").update(said).digest("base64url");
}

/** `meta` with the digest of the pair when the pair is sound and meta.json says what it is; without one otherwise. */
function withChecked(cert: StoredCertificate): CertificateMeta {
  const { checked: _, ...meta } = cert.meta;
  const chain = readChain(cert.chainPem);
  const key = readKey(cert.keyPem);
  if (typeof chain === "string" || typeof key === "string" || !keyMatches(chain[0]!, key)) return meta;
  const info = readCertificate(cert.chainPem, { leaf: chain[0] });
  const said = info.serial === meta.serial && info.notAfter.toISOString() === meta.notAfter && info.notBefore.toISOString() === meta.notBefore && covers(info.names, meta.names) && keyTypeOf(key) === meta.keyType;
  return said ? { ...meta, checked: pairDigest(cert.chainPem, cert.keyPem, meta) } : meta;
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
  await storage.put(at(SET_FILES.meta), JSON.stringify(withChecked(cert), null, 2) + "\n");
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
  // Read together: one after the other, a thousand sets in Redis took a thousand round trips.
  const named = await Promise.all([...folders].map(async (folder) => ({ folder, names: await namesIn(storage, folder) })));
  const bySet = new Map<string, string[]>();
  for (const { folder, names } of named) {
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

/** The time stamp of `<file>.replaced-<stamp>`, beside a certificate that replaced it. */
export function replacedStamp(now: Date): string {
  return now.toISOString().replace(/[-:]/g, "");
}

/**
 * Moves the files of `from` (the same names in another order) into `into`. Of two certificates
 * the one valid longer keeps the usual names; the other's files stay beside it as
 * `<file>.replaced-<UTC time>`. Resolves to what was done, in words.
 */
export async function adoptFolder(storage: Storage, from: string, into: string, now: Date): Promise<string> {
  const [theirs, ours] = await Promise.all([readSet(storage, from), readSet(storage, into)]);
  const keepTheirs = theirs.kind === "ok" && (ours.kind !== "ok" || theirs.info.notAfter > ours.info.notAfter);
  const stamp = replacedStamp(now);
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
