// `padlock trust`: shows padlock's local root certificate (creating it if padlock has not yet),
// and with --install adds it to the system trust store and the user's NSS database. Nothing is
// ever installed without --install.
import { X509Certificate } from "node:crypto";
import path from "node:path";
import { defaultStorageDir } from "../paths.js";
import { fail } from "./exit.js";
import { loadConfigOrExit } from "./config-or-exit.js";
import { storageDir as configStorageDir } from "../storage/open-storage.js";
import { InternalCa, InternalCaError, internalCaFolder } from "../tls/internal-ca.js";
import { FolderKeyFileStore } from "../tls/key-files.js";
import { TrustStoreError, installIntoNssDb, installIntoSystemStore, type InstallOutcome } from "../tls/trust-store.js";

export interface TrustFlags {
  config?: string;
  storage?: string;
  install?: boolean;
  only?: "system" | "nss";
}

export async function trustCommand(flags: TrustFlags): Promise<void> {
  if (flags.only && !flags.install) fail("--only chooses where --install installs; add --install");
  const store = new FolderKeyFileStore(internalCaFolder(storageDir(flags)));
  const rootPath = InternalCa.rootCertificatePath(store);
  let rootPem: string | undefined;
  let created = false;
  try {
    rootPem = await InternalCa.readRootCertificate(store);
    if (rootPem === undefined) {
      rootPem = (await InternalCa.open(store)).rootCertificatePem;
      created = true;
    }
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "EACCES" || code === "EPERM") {
      fail(`not allowed to read or create padlock's root in ${store.dir} (${code}): run this as the user padlock runs as (or with sudo)`);
    }
    if (err instanceof InternalCaError) fail(err.message);
    throw err;
  }

  const root = new X509Certificate(rootPem);
  const out = process.stdout;
  out.write("padlock's local root certificate (HTTPS for localhost and names configured as internal)\n");
  out.write(`  stored at:   ${rootPath}${created ? "   (created just now)" : ""}\n`);
  out.write(`  subject:     ${root.subject.replace(/\n/g, ", ")}\n`);
  out.write(`  valid until: ${new Date(root.validTo).toISOString()}\n`);
  out.write(`  SHA-256:     ${root.fingerprint256}\n\n`);
  out.write(rootPem.endsWith("\n") ? rootPem : `${rootPem}\n`);

  if (!flags.install) {
    out.write(
      "\nTo make this machine trust it: padlock trust --install\n" +
        "  (the system trust store needs root: sudo; the NSS database used by Chromium is your own: run as yourself)\n",
    );
    return;
  }

  const steps: { label: string; install: () => Promise<InstallOutcome> }[] = [];
  if (flags.only !== "nss") steps.push({ label: "system trust store", install: () => installIntoSystemStore(rootPem, rootPath) });
  if (flags.only !== "system") {
    if (process.getuid?.() === 0 && process.env.SUDO_USER) {
      process.stderr.write(
        `padlock: note: running through sudo, so the NSS database is root's, not ${process.env.SUDO_USER}'s; ` +
          `for ${process.env.SUDO_USER}'s browsers run as ${process.env.SUDO_USER}: padlock trust --install --only nss\n`,
      );
    }
    // No colons: NSS reads "a:b" as token "a", nickname "b".
    const nickname = `padlock local root ${root.fingerprint256.replace(/:/g, "").slice(0, 8)}`;
    steps.push({ label: "NSS database", install: () => installIntoNssDb(rootPath, nickname) });
  }
  let failed = false;
  out.write("\n");
  for (const step of steps) {
    try {
      const outcome = await step.install();
      out.write(`${outcome.changed ? "installed into" : "already in"} the ${step.label}: ${outcome.where}\n`);
    } catch (err) {
      if (!(err instanceof TrustStoreError)) throw err;
      failed = true;
      process.stderr.write(`padlock: ${step.label}: ${err.message}\n`);
    }
  }
  if (failed) process.exit(1);
  if (flags.only !== "system") out.write("Firefox keeps its own database per profile: import the root there under Settings > Certificates if you use it.\n");
}

function storageDir(flags: TrustFlags): string {
  if (flags.storage) return path.resolve(flags.storage);
  if (!flags.config) return defaultStorageDir();
  const config = loadConfigOrExit(flags.config);
  const folder = configStorageDir(config, path.dirname(path.resolve(flags.config)));
  if (folder === undefined) fail(`storage in ${flags.config} is ${config.storage}, not a folder: padlock trust reads the internal CA from a folder; pass --storage <dir>`);
  return folder;
}
