// Where padlock keeps what it knows, in any storage (a folder, Redis), written down once:
//
//   certificates/<ca>/<set>/   cert.pem (the chain), key.pem, meta.json, status.json, and while
//                              an order is in flight pending-order.json, pending-key.pem,
//                              pending-cert.pem (stored-set.ts)
//   accounts/<ca>/             account.key, account.json, orders.json (the order budget's ledger)
//   challenges/http-01/<token> HTTP-01 tokens, for other instances sharing the storage
//   challenges/tls-alpn-01/<name>  TLS-ALPN-01 key authorizations, likewise (each instance makes
//                              the challenge certificate from one)
//   challenges/dns-01/<name>   a DNS-01 TXT record that is up, for whoever takes over the order
//   admin.token                the admin endpoint's token (admin.listen)
//   locks named <ca>-<set>, account-<ca> and order-budget-<ca>
//
// <ca> is the CA directory's host and path (two CAs never share files); <set> is named after the
// set's sorted names, so the same names in another order share it. (The internal CA keeps its
// files on disk beside these, in internal-ca/: src/tls/internal-ca.ts.)
import { createHash } from "node:crypto";
import { canonicalName } from "../config/host-name.js";

export const SET_FILES = {
  cert: "cert.pem",
  key: "key.pem",
  meta: "meta.json",
  status: "status.json",
  order: "pending-order.json",
  orderKey: "pending-key.pem",
  newCert: "pending-cert.pem",
} as const;

export const CERTIFICATES = "certificates/";
export const CHALLENGES = "challenges/";
export const CHALLENGE_TOKENS = `${CHALLENGES}http-01/`;
export const TLS_ALPN_CHALLENGES = `${CHALLENGES}tls-alpn-01/`;
export const DNS01_RECORDS = `${CHALLENGES}dns-01/`;
export const ADMIN_TOKEN = "admin.token";

/** A stable folder name per CA directory: host, port and path, so two CAs never share files. */
export function caId(directoryUrl: string): string {
  const u = new URL(directoryUrl);
  return `${u.host}${u.pathname}`.replace(/[^A-Za-z0-9.-]+/g, "-").replace(/-+$/, "");
}

export function caFolder(ca: string): string {
  return `${CERTIFICATES}${ca}`;
}

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

/** The folder of a name set's files under a CA's folder. */
export function setFolder(ca: string, names: string[]): string {
  return `${caFolder(ca)}/${folderName(names)}`;
}

export function accountFolder(ca: string): string {
  return `accounts/${ca}/`;
}

/** Where a CA's account lives: its key (PEM, 0600) and what the CA said about it. */
export function accountFiles(ca: string): { key: string; info: string } {
  return { key: `${accountFolder(ca)}account.key`, info: `${accountFolder(ca)}account.json` };
}

/** The order budget's ledger for a CA. */
export function ledgerFile(ca: string): string {
  return `${accountFolder(ca)}orders.json`;
}

export function tokenFile(token: string): string {
  return `${CHALLENGE_TOKENS}${token}`;
}

export function tlsAlpnChallengeFile(name: string): string {
  return `${TLS_ALPN_CHALLENGES}${name.toLowerCase()}`;
}

export function dns01RecordFile(name: string): string {
  return `${DNS01_RECORDS}${name.toLowerCase()}`;
}

export const LOCKS = {
  /** Held while a set's files are ordered, stored or changed. */
  set: (ca: string, folder: string) => `${ca}-${folder.split("/").pop()}`,
  /** Held while a CA's account is read, registered or stored. */
  account: (ca: string) => `account-${ca}`,
  /** Held while the order budget's ledger is read and written. */
  ledger: (ca: string) => `order-budget-${ca}`,
};
