// Reads a certbot configuration folder (/etc/letsencrypt, or the folder a container mounted
// there) without changing anything in it: each lineage's renewal/NAME.conf, the current files
// live/NAME/ points at in archive/NAME/, and the ACME accounts under
// accounts/<server>/<id>/ (private_key.json is the account key as a JWK, regr.json holds the
// account URL). A lineage or account that cannot be read carries the reason instead of its files.
import { createPrivateKey, X509Certificate, type JsonWebKey } from "node:crypto";
import { promises as fs } from "node:fs";
import path from "node:path";

/** certbot's default server when a renewal file names none. */
export const CERTBOT_DEFAULT_SERVER = "https://acme-v02.api.letsencrypt.org/directory";

export interface CertbotLineage {
  /** The lineage's name: example.com, example.com-0001. */
  name: string;
  /** renewal/NAME.conf, relative to the certbot folder. */
  confFile: string;
  /** The ACME directory it renews from. */
  server: string;
  /** The certbot account id that ordered it, when the renewal file says. */
  accountId?: string;
  files?: LineageFiles;
  /** Why its current files could not be read. */
  problem?: string;
}

export interface LineageFiles {
  /** The certificate and its chain (fullchain.pem, else cert.pem followed by chain.pem). */
  chainPem: string;
  keyPem: string;
  /** The archive files live/NAME/ points at, relative to the certbot folder. */
  chainFile: string;
  keyFile: string;
}

export interface CertbotAccount {
  id: string;
  /** Its folder, relative to the certbot folder. */
  folder: string;
  keyPem?: string;
  url?: string;
  contact: string[];
  problem?: string;
}

export interface CertbotFolder {
  dir: string;
  lineages: CertbotLineage[];
  accounts: Map<string, CertbotAccount>;
  /** Folders in live/ that no renewal file describes, with what they are. */
  strays: { folder: string; why: string }[];
}

/** The folder is not a certbot folder, or cannot be read at all. */
export class CertbotFolderError extends Error {
  override name = "CertbotFolderError";
}

export async function readCertbotFolder(dir: string): Promise<CertbotFolder> {
  const root = path.resolve(dir);
  const renewal = path.join(root, "renewal");
  let confs: string[];
  try {
    confs = (await fs.readdir(renewal)).filter((f) => f.endsWith(".conf")).sort();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT") {
      const exists = await fs.stat(root).then(() => true, () => false);
      throw new CertbotFolderError(
        exists
          ? `${root} is not a certbot folder: it has no renewal/ folder. Name the folder certbot keeps its configuration in: /etc/letsencrypt, or the folder mounted there in a container (such as ./services/certbot/conf)`
          : `${root} does not exist. Name the folder certbot keeps its configuration in: /etc/letsencrypt, or the folder mounted there in a container (such as ./services/certbot/conf)`,
      );
    }
    throw new CertbotFolderError(`cannot read ${renewal}: ${readProblem(err)}`);
  }
  const lineages = await Promise.all(confs.map((conf) => readLineage(root, conf)));
  const accounts = await readAccounts(root);
  const described = new Set(lineages.map((l) => l.name));
  const strays: CertbotFolder["strays"] = [];
  for (const entry of await fs.readdir(path.join(root, "live"), { withFileTypes: true }).catch(() => [])) {
    if (!entry.isDirectory() || described.has(entry.name)) continue;
    strays.push({ folder: `live/${entry.name}`, why: await strayKind(path.join(root, "live", entry.name), entry.name) });
  }
  return { dir: root, lineages, accounts, strays };
}

/** renewal/NAME.conf (configobj syntax): `key = value` lines, `[section]` headers, `#` comments. */
export function parseRenewalConf(text: string): Map<string, string> {
  const values = new Map<string, string>();
  let section = "";
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const header = /^\[+\s*([^\]]+?)\s*\]+$/.exec(line);
    if (header) {
      section = header[1]!;
      continue;
    }
    const eq = line.indexOf("=");
    if (eq < 0) continue;
    const key = line.slice(0, eq).trim();
    const value = line.slice(eq + 1).trim().replace(/^(["'])(.*)\1$/, "$2");
    values.set(section ? `${section}.${key}` : key, value);
  }
  return values;
}

async function readLineage(root: string, conf: string): Promise<CertbotLineage> {
  const name = conf.slice(0, -".conf".length);
  const confFile = `renewal/${conf}`;
  let values: Map<string, string>;
  try {
    values = parseRenewalConf(await fs.readFile(path.join(root, confFile), "utf8"));
  } catch (err) {
    return { name, confFile, server: CERTBOT_DEFAULT_SERVER, problem: `cannot read ${confFile}: ${readProblem(err)}` };
  }
  const lineage: CertbotLineage = {
    name,
    confFile,
    server: values.get("renewalparams.server") || CERTBOT_DEFAULT_SERVER,
    accountId: values.get("renewalparams.account") || undefined,
  };
  if (!/^https?:\/\/[^/\s]+/.test(lineage.server)) return { ...lineage, problem: `${confFile}: server = ${lineage.server} is not the URL of an ACME directory` };
  try {
    lineage.files = await readLiveFiles(root, name);
  } catch (err) {
    lineage.problem = (err as Error).message;
  }
  return lineage;
}

/** The files live/NAME/ points at (certbot keeps them as links into archive/NAME/). */
async function readLiveFiles(root: string, name: string): Promise<LineageFiles> {
  const live = path.join(root, "live", name);
  const read = async (file: string) => {
    const target = await linkTarget(root, path.join(live, file));
    return { pem: await fs.readFile(target, "utf8"), file: path.relative(root, target) };
  };
  const key = await read("privkey.pem").catch((err: unknown) => {
    throw new Error(`cannot read live/${name}/privkey.pem: ${readProblem(err)}`);
  });
  let chain: { pem: string; file: string };
  try {
    chain = await read("fullchain.pem");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw new Error(`cannot read live/${name}/fullchain.pem: ${readProblem(err)}`);
    try {
      const [cert, rest] = await Promise.all([read("cert.pem"), read("chain.pem")]);
      chain = { pem: `${cert.pem.trimEnd()}\n${rest.pem}`, file: cert.file };
    } catch (inner) {
      throw new Error(`live/${name} has neither fullchain.pem nor cert.pem and chain.pem: ${readProblem(inner)}`);
    }
  }
  return { chainPem: chain.pem, keyPem: key.pem, chainFile: chain.file, keyFile: key.file };
}

/**
 * Where a live/ link leads. certbot's links are relative (../../archive/NAME/cert3.pem); an
 * absolute one into another /etc/letsencrypt (a folder copied from a server or a container) is
 * followed into this folder's archive/.
 */
async function linkTarget(root: string, file: string): Promise<string> {
  let target: string;
  try {
    target = await fs.readlink(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EINVAL") return file; // a plain file
    throw err;
  }
  const resolved = path.resolve(path.dirname(file), target);
  if (!path.isAbsolute(target) || (await fs.stat(resolved).then(() => true, () => false))) return resolved;
  const inArchive = target.split("/archive/")[1];
  return inArchive ? path.join(root, "archive", inArchive) : resolved;
}

async function readAccounts(root: string): Promise<Map<string, CertbotAccount>> {
  const accounts = new Map<string, CertbotAccount>();
  const walk = async (dir: string): Promise<void> => {
    const entries = await fs.readdir(dir, { withFileTypes: true }).catch(() => []);
    if (entries.some((e) => e.name === "private_key.json")) {
      const account = await readAccount(root, dir);
      accounts.set(account.id, account);
      return;
    }
    for (const e of entries) if (e.isDirectory()) await walk(path.join(dir, e.name));
  };
  await walk(path.join(root, "accounts"));
  return accounts;
}

async function readAccount(root: string, dir: string): Promise<CertbotAccount> {
  const folder = path.relative(root, dir);
  const account: CertbotAccount = { id: path.basename(dir), folder, contact: [] };
  try {
    const jwk = JSON.parse(await fs.readFile(path.join(dir, "private_key.json"), "utf8")) as JsonWebKey;
    account.keyPem = createPrivateKey({ key: jwk, format: "jwk" }).export({ type: "pkcs8", format: "pem" }).toString();
  } catch (err) {
    account.problem = `${folder}/private_key.json is not a readable account key (${readProblem(err)})`;
    return account;
  }
  try {
    const regr = JSON.parse(await fs.readFile(path.join(dir, "regr.json"), "utf8")) as { uri?: unknown; body?: { contact?: unknown } };
    if (typeof regr.uri !== "string" || !/^https?:\/\//.test(regr.uri)) throw new Error("it holds no account URL (uri)");
    account.url = regr.uri;
    if (Array.isArray(regr.body?.contact)) account.contact = regr.body.contact.filter((c): c is string => typeof c === "string");
  } catch (err) {
    account.problem = `${folder}/regr.json does not give the account URL (${readProblem(err)})`;
  }
  return account;
}

/** What a live/ folder without a renewal file is, in words. */
async function strayKind(dir: string, name: string): Promise<string> {
  const chain = await fs.readFile(path.join(dir, "fullchain.pem"), "utf8").catch(() => undefined);
  if (chain === undefined) return `no renewal/${name}.conf describes it and it holds no fullchain.pem`;
  try {
    const cert = new X509Certificate(chain);
    if (cert.issuer === cert.subject) return `no renewal/${name}.conf describes it; it holds a self-signed certificate (${cert.subject.replace(/\n/g, ", ")}), such as the dummy certificate an init-letsencrypt.sh script makes so nginx can start`;
  } catch {
    return `no renewal/${name}.conf describes it, and its fullchain.pem does not parse`;
  }
  return `no renewal/${name}.conf describes it, so certbot does not renew it`;
}

function readProblem(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (e.code === "EACCES") return "permission denied (certbot's files belong to root: run the import with sudo)";
  if (e.code === "ENOENT") return "no such file";
  return e.message;
}
