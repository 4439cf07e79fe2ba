// What `padlock import certbot` will do, decided before anything is written: which lineage's
// certificate goes into which set folder of padlock's storage (per CA, so staging and
// production never mix), which certbot account each CA's certificates renew with, and which
// lineages are left over, expired, revoked or broken, each with the reason and the certbot
// command that removes it.
import { createPublicKey } from "node:crypto";
import type { Config } from "../config/schema.js";
import { chooseCa, knownCaAt, usesInternalCa } from "../config/certificate-source.js";
import { lastThirdStart } from "../time/renewal-timing.js";
import type { CertificateStore } from "../certificates/certificate-store.js";
import { caId as caIdOf, setFolder, setKey } from "../certificates/store-layout.js";
import type { StoredCertificate } from "../certificates/stored-set.js";
import { chainProblem, keyMatches, keyProblem, keyTypeOf } from "../tls/pem.js";
import { covers, readCertificate, type CertificateInfo } from "../tls/certificate-info.js";
import type { CertbotAccount, CertbotFolder, CertbotLineage } from "./certbot-folder.js";
import type { Revocation } from "./revocation.js";

export interface ImportPlan {
  certbotDir: string;
  storage: string;
  /** Said once, above everything else: the config gets no ACME certificates, say. */
  notes: string[];
  cas: CaPlan[];
  /** Lineages that are not imported anywhere, and why. */
  skipped: SkippedLineage[];
  /** Folders in live/ that are not certbot lineages. */
  strays: { folder: string; why: string }[];
}

export interface CaPlan {
  directoryUrl: string;
  caId: string;
  /** letsencrypt, letsencrypt-staging, …, or the URL. */
  label: string;
  staging: boolean;
  /** Why the config does not serve these (another CA, or none); undefined when it does. */
  unused?: string;
  account: AccountPlan;
  certificates: CertificatePlan[];
  leftovers: SkippedLineage[];
}

export type AccountPlan =
  | { action: "import"; certbotId: string; url: string; keyPem: string; contact: string[]; notes: string[] }
  | { action: "none"; why: string };

export interface CertificatePlan {
  lineage: string;
  /** The archive file the certificate comes from. */
  from: string;
  folder: string;
  cert: StoredCertificate;
  action: "write" | "replace" | "already" | "keep-stored";
  /** What storage holds there now, when something. */
  stored?: { serial: string; notAfter: Date };
  /** The site it is for, as its hosts; undefined when no site lists these names. */
  site?: string;
  revocation: Revocation;
  notes: string[];
}

export interface SkippedLineage {
  lineage: string;
  why: string;
  /** The certbot command that deletes it. */
  remove: string;
}

export interface PlanInput {
  folder: CertbotFolder;
  config: Config;
  storageLocation: string;
  /** Storage as it is; undefined when its folder does not exist yet. */
  store?: CertificateStore;
  now: number;
  checkRevocation: (chainPem: string) => Promise<Revocation>;
}

interface Candidate {
  lineage: CertbotLineage;
  info: CertificateInfo;
  chainPem: string;
  keyPem: string;
  caId: string;
  revocation: Revocation;
}

export async function planImport(input: PlanInput): Promise<ImportPlan> {
  const { folder, config, now } = input;
  const remove = (name: string) => `certbot delete --cert-name ${name}${folder.dir === "/etc/letsencrypt" ? "" : ` --config-dir ${folder.dir}`}`;
  const skipped: SkippedLineage[] = [];
  const candidates: Candidate[] = [];
  await Promise.all(
    folder.lineages.map(async (lineage) => {
      const checked = await checkLineage(lineage, now, input.checkRevocation);
      if (typeof checked === "string") skipped.push({ lineage: lineage.name, why: checked, remove: remove(lineage.name) });
      else candidates.push(checked);
    }),
  );

  const notes: string[] = [];
  const configCa = config.ca && config.ca !== "internal" ? chooseCa(config.ca) : undefined;
  if (!configCa) notes.push(`the config has ${config.ca ? "ca: internal" : "no ca:"}, so padlock gets no certificates from an ACME CA with it and serves none of these: set ca: to the CA they come from (letsencrypt for certbot's default)`);
  const sites = config.sites.filter((s) => s.tls?.enabled !== false && !usesInternalCa(config, s));

  // Each certificate goes to every site whose names it covers, else to a set of its own names;
  // of several lineages for one set folder, the newest valid one wins.
  const byFolder = new Map<string, { names: string[]; site?: (typeof sites)[number]; candidates: Candidate[] }>();
  for (const c of candidates) {
    const targets = sites.filter((s) => covers(c.info.names, s.hosts));
    for (const target of targets.length ? targets.map((site) => ({ names: site.hosts, site })) : [{ names: c.info.names, site: undefined }]) {
      const key = `${c.caId} ${setKey(target.names)}`;
      const entry = byFolder.get(key) ?? { ...target, candidates: [] };
      entry.candidates.push(c);
      byFolder.set(key, entry);
    }
  }
  const newestFirst = (a: Candidate, b: Candidate) => b.info.notBefore.getTime() - a.info.notBefore.getTime() || b.info.notAfter.getTime() - a.info.notAfter.getTime();
  const cas = new Map<string, CaPlan>();
  const winners = new Set<Candidate>();
  const beatenBy = new Map<Candidate, Candidate>();
  for (const entry of byFolder.values()) {
    const [winner, ...others] = entry.candidates.sort(newestFirst);
    winners.add(winner!);
    for (const o of others) if (!beatenBy.has(o)) beatenBy.set(o, winner!);
    const ca = cas.get(winner!.caId) ?? newCaPlan(winner!.lineage.server, configCa?.directoryUrl, config.ca);
    cas.set(winner!.caId, ca);
    ca.certificates.push(await planCertificate(winner!, entry.names, entry.site, input));
  }
  for (const [loser, winner] of beatenBy) {
    if (winners.has(loser)) continue;
    const ca = cas.get(loser.caId)!;
    ca.leftovers.push({
      lineage: loser.lineage.name,
      why: `an older certificate (serial ${loser.info.serial}, valid until ${day(loser.info.notAfter)}); lineage ${winner.lineage.name} has a newer one for these names`,
      remove: remove(loser.lineage.name),
    });
  }
  for (const ca of cas.values()) {
    ca.account = await planAccount(ca, [...winners].filter((w) => w.caId === ca.caId), folder.accounts, input.store);
    ca.certificates.sort((a, b) => a.cert.meta.names[0]!.localeCompare(b.cert.meta.names[0]!));
  }
  return {
    certbotDir: folder.dir,
    storage: input.storageLocation,
    notes,
    cas: [...cas.values()].sort((a, b) => Number(a.staging) - Number(b.staging) || a.label.localeCompare(b.label)),
    skipped: skipped.sort((a, b) => a.lineage.localeCompare(b.lineage)),
    strays: folder.strays,
  };
}

/** A lineage's current pair, or why it cannot be imported. */
async function checkLineage(lineage: CertbotLineage, now: number, checkRevocation: PlanInput["checkRevocation"]): Promise<Candidate | string> {
  if (!lineage.files) return lineage.problem ?? "its files cannot be read";
  const { chainPem, keyPem, chainFile, keyFile } = lineage.files;
  const chainIssue = chainProblem(chainPem);
  if (chainIssue) return `${chainFile} cannot be used: ${chainIssue}`;
  const keyIssue = keyProblem(keyPem);
  if (keyIssue) return `${keyFile} is ${keyIssue}`;
  if (!keyMatches(chainPem, keyPem)) return `mismatched pair: the key ${keyFile} does not belong to the certificate ${chainFile}`;
  const info = readCertificate(chainPem);
  if (info.notAfter.getTime() <= now) return `expired on ${day(info.notAfter)}`;
  if (!keyTypeOf(keyPem)) return `its key is of a type padlock does not use (ECDSA P-256 or P-384, RSA 2048, 3072 or 4096): padlock would order a new certificate at once`;
  const revocation = await checkRevocation(chainPem);
  if (revocation.status === "revoked") return `revoked on ${day(revocation.at)}${revocation.reason ? ` (${revocation.reason})` : ""}, says the CA's CRL ${revocation.crl}`;
  return { lineage, info, chainPem, keyPem, caId: caIdOf(lineage.server), revocation };
}

function newCaPlan(directoryUrl: string, configDirectory: string | undefined, configCa: string | undefined): CaPlan {
  const known = knownCaAt(directoryUrl);
  const label = known?.name ?? directoryUrl;
  const staging = known?.ca.staging ?? /staging/i.test(directoryUrl);
  let unused: string | undefined;
  if (configDirectory === undefined) unused = "the config gets no certificates from an ACME CA";
  else if (configDirectory !== directoryUrl) unused = `the config's ca: is ${configCa}, not this CA: padlock serves these only with ca: ${label}`;
  return { directoryUrl, caId: caIdOf(directoryUrl), label, staging, unused, account: { action: "none", why: "" }, certificates: [], leftovers: [] };
}

async function planCertificate(c: Candidate, names: string[], site: Config["sites"][number] | undefined, input: PlanInput): Promise<CertificatePlan> {
  const folder = setFolder(c.caId, names);
  const keyType = keyTypeOf(c.keyPem)!;
  const cert: StoredCertificate = {
    chainPem: c.chainPem,
    keyPem: c.keyPem,
    info: c.info,
    meta: {
      names,
      ca: c.lineage.server,
      keyType,
      serial: c.info.serial,
      notBefore: c.info.notBefore.toISOString(),
      notAfter: c.info.notAfter.toISOString(),
      ariId: c.info.ariId,
      issuedAt: c.info.notBefore.toISOString(),
      imported: { from: `certbot lineage ${c.lineage.name} (${input.folder.dir}/${c.lineage.files!.chainFile})`, at: new Date(input.now).toISOString() },
    },
  };
  const notes: string[] = [];
  if (!site) notes.push(`no site in the config lists exactly these names, so padlock stores it but serves it only once a site has hosts: [${names.join(", ")}]`);
  const unlisted = c.info.names.filter((n) => !names.includes(n));
  if (site && unlisted.length) notes.push(`the certificate also covers ${unlisted.join(", ")}, which the site does not list: add ${unlisted.length === 1 ? "it" : "them"} to the site's hosts to keep serving ${unlisted.length === 1 ? "it" : "them"}`);
  const wanted = site?.tls?.key_type ?? "ecdsa-p256";
  if (site && wanted !== keyType) notes.push(`the site asks for ${wanted} keys (tls.key_type${site.tls?.key_type ? "" : ", by default"}) but this key is ${keyType}, so padlock would order a new certificate at start: add tls: { key_type: ${keyType} } to the site to keep this one until its renewal`);
  if (site?.tls?.profile) notes.push(`the site asks for the profile ${site.tls.profile}, which an imported certificate does not record, so padlock orders a new certificate at start`);
  const renewFrom = lastThirdStart(c.info.notBefore, c.info.notAfter);
  notes.push(
    renewFrom <= input.now
      ? "it is already in the last third of its life: padlock renews it soon after it starts (in the CA's ARI window when the CA offers one)"
      : `padlock renews it in the CA's ARI window when the CA offers one, else from about ${day(new Date(renewFrom))} (2/3 of its lifetime)`,
  );
  const plan: CertificatePlan = { lineage: c.lineage.name, from: c.lineage.files!.chainFile, folder, cert, action: "write", site: site?.hosts.join(", "), revocation: c.revocation, notes };
  if (!input.store) return plan;
  const contents = await input.store.readSet(folder);
  if (contents.kind === "ok") {
    plan.stored = { serial: contents.info.serial, notAfter: contents.info.notAfter };
    if (contents.info.serial === c.info.serial) plan.action = "already";
    else if (contents.info.notAfter >= c.info.notAfter) plan.action = "keep-stored";
    else plan.action = "replace";
  } else if (contents.kind !== "none" || (await input.store.hasPendingOrder(folder))) {
    plan.action = "keep-stored";
    notes.unshift(`storage holds files padlock has not finished with there (an order or a switch in progress, or damaged files): start padlock once so it settles them, then import again`);
  }
  return plan;
}

/**
 * The certbot account the CA's imported certificates renew with: the one that ordered most of
 * them (the newest one's on a tie). Storage that already holds padlock's own account for the
 * CA keeps it.
 */
async function planAccount(ca: CaPlan, winners: Candidate[], accounts: Map<string, CertbotAccount>, store?: CertificateStore): Promise<AccountPlan> {
  const uses = new Map<string, number>();
  for (const w of winners) if (w.lineage.accountId) uses.set(w.lineage.accountId, (uses.get(w.lineage.accountId) ?? 0) + 1);
  const newest = [...winners].sort((a, b) => b.info.notBefore.getTime() - a.info.notBefore.getTime())[0]?.lineage.accountId;
  const id = [...uses.entries()].sort((a, b) => b[1] - a[1] || Number(b[0] === newest) - Number(a[0] === newest))[0]?.[0];
  const stored = await store?.accountKey(ca.directoryUrl);
  const account = id === undefined ? undefined : accounts.get(id);
  if (stored) {
    if (account?.keyPem && sameKey(stored.keyPem, account.keyPem)) return { action: "none", why: `storage already holds certbot's account ${id} (${account.url})` };
    return { action: "none", why: `storage already holds padlock's own account for this CA (${stored.file}); it is kept and renews these certificates` };
  }
  if (id === undefined) return { action: "none", why: "the renewal files name no certbot account: padlock registers a new account at its first order" };
  if (!account) return { action: "none", why: `certbot's account ${id} is not in accounts/: padlock registers a new account at its first order` };
  if (account.problem || !account.keyPem || !account.url) return { action: "none", why: `${account.problem ?? "it cannot be read"}: padlock registers a new account at its first order` };
  const notes = [...uses.keys()]
    .filter((other) => other !== id)
    .map((other) => `${winners.filter((w) => w.lineage.accountId === other).map((w) => w.lineage.name).join(", ")} came from certbot's account ${other}; padlock renews them with ${id} (any account of the CA may renew any names it validates)`);
  return { action: "import", certbotId: id, url: account.url, keyPem: account.keyPem, contact: account.contact, notes };
}

function sameKey(a: string, b: string): boolean {
  const jwk = (pem: string) => JSON.stringify(Object.entries(createPublicKey(pem).export({ format: "jwk" })).sort());
  try {
    return jwk(a) === jwk(b);
  } catch {
    return false;
  }
}

/** 2025-03-01 */
export function day(d: Date): string {
  return d.toISOString().slice(0, 10);
}
