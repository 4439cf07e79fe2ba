// Installing padlock's root into the places that decide what this machine trusts: the system
// store (Debian/Ubuntu: /usr/local/share/ca-certificates + update-ca-certificates) and the
// user's NSS database ($HOME/.pki/nssdb, read by Chromium and other NSS programs on Linux).
// Only ever called on explicit request (`padlock trust --install`).
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, readFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { FolderKeyFileStore } from "./key-files.js";

const run = promisify(execFile);

export const SYSTEM_CA_DIR = "/usr/local/share/ca-certificates";
export const SYSTEM_CA_FILE = "padlock-root.crt";

export class TrustStoreError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TrustStoreError";
  }
}

export type InstallOutcome = { where: string; changed: boolean };

export async function installIntoSystemStore(rootPem: string, rootPath: string): Promise<InstallOutcome> {
  const target = path.join(SYSTEM_CA_DIR, SYSTEM_CA_FILE);
  if (!existsSync(SYSTEM_CA_DIR)) {
    throw new TrustStoreError(`this system has no ${SYSTEM_CA_DIR} (the Debian/Ubuntu trust store folder); add ${rootPath} to the system trust store with your system's own tool`);
  }
  if ((await readFile(target, "utf8").catch(() => undefined)) === rootPem) return { where: target, changed: false };
  try {
    await new FolderKeyFileStore(SYSTEM_CA_DIR).write(SYSTEM_CA_FILE, rootPem, { secret: false });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "EACCES" || code === "EPERM" || code === "EROFS") {
      throw new TrustStoreError(
        `not allowed to write ${target} (${code}: only root may change the system trust store). To install it there, run:\n` +
          `  sudo cp ${shellQuote(rootPath)} ${target} && sudo update-ca-certificates`,
      );
    }
    throw err;
  }
  try {
    await run("update-ca-certificates", [], { env: { ...process.env, PATH: `${process.env.PATH ?? ""}:/usr/sbin:/sbin` } });
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    throw new TrustStoreError(`copied the root to ${target}, but update-ca-certificates failed: ${e.stderr?.trim() || e.message}`);
  }
  return { where: target, changed: true };
}

/** Adds the root, trusted for TLS servers ("C,,"), to $home/.pki/nssdb, creating the database if needed. */
export async function installIntoNssDb(rootPath: string, nickname: string, home: string = os.homedir()): Promise<InstallOutcome> {
  const db = path.join(home, ".pki", "nssdb");
  try {
    if (!existsSync(path.join(db, "cert9.db"))) {
      await mkdir(db, { recursive: true, mode: 0o700 });
      await run("certutil", ["-N", "-d", `sql:${db}`, "--empty-password"]);
    }
    await run("certutil", ["-A", "-d", `sql:${db}`, "-t", "C,,", "-n", nickname, "-i", rootPath]);
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === "ENOENT" && e.path === "certutil") {
      throw new TrustStoreError("certutil is not installed: install libnss3-tools (Debian/Ubuntu) or nss-tools (Fedora), then run this again");
    }
    if (e.code === "EACCES") throw new TrustStoreError(`not allowed to write the NSS database ${db} (${e.code}): run this as the user whose browser should trust padlock`);
    throw new TrustStoreError(`could not add the root to the NSS database ${db}: ${e.stderr?.trim() || e.message}`);
  }
  return { where: `${db} (as "${nickname}")`, changed: true };
}

function shellQuote(text: string): string {
  return /^[A-Za-z0-9_./:-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}
