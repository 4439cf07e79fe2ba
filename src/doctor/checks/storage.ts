// Check: the storage folder is usable by the user padlock serves as — it exists (or can be
// created), that user owns it and can write it, keys are 0600, and nothing inside belongs to
// root (the seed's "could not write dummy key").
import { lstatSync, mkdtempSync, readdirSync, rmSync, type Stats } from "node:fs";
import path from "node:path";
import { fail, ok, warn, type CheckResult } from "../check-result.js";
import { groupName, userById, userByName, type SystemUser } from "../system-users.js";
import { userLabel } from "../../system/users.js";

export interface StorageOptions {
  /** config `storage` resolved against the config's folder. */
  dir: string;
  /** config `user`: padlock drops to it after binding ports when started as root. */
  user?: string;
}

/** Entries looked at inside the folder; enough for any real certificate store. */
const MAX_ENTRIES = 10_000;

const isKeyFile = (name: string) => name.endsWith(".key") || (name.endsWith(".pem") && name.includes("key"));

export function servingUser(configUser: string | undefined): SystemUser | string {
  if (configUser) return userByName(configUser) ?? `user "${configUser}" (config user:) does not exist on this machine`;
  const uid = process.getuid?.() ?? 0;
  return userById(uid) ?? { name: `uid ${uid}`, uid, gid: process.getgid?.() ?? 0, groups: process.getgroups?.() ?? [] };
}

function canWrite(user: SystemUser, st: Stats): boolean {
  if (user.uid === 0) return true;
  if (st.uid === user.uid) return (st.mode & 0o300) === 0o300;
  if (user.groups.includes(st.gid)) return (st.mode & 0o030) === 0o030;
  return (st.mode & 0o003) === 0o003;
}

/** When the doctor runs as the serving user, a real write settles it (read-only mounts, ACLs). */
function writeProbe(dir: string): string | undefined {
  try {
    rmSync(mkdtempSync(path.join(dir, ".padlock-doctor-")), { recursive: true });
    return undefined;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code ?? String(err);
  }
}

const chownFix = (user: SystemUser, dir: string) => `sudo chown -R ${user.name}:${groupName(user.gid)} ${dir}`;

export function checkStorage(options: StorageOptions): CheckResult[] {
  const { dir } = options;
  const check = "storage";
  const user = servingUser(options.user);
  if (typeof user === "string") return [fail(check, user, "create that user (useradd --system padlock) or change user: in the config")];

  const results: CheckResult[] = [];
  if (user.uid === 0) {
    results.push(warn("serving user", "padlock would keep running as root after binding its ports", "add user: padlock to the config (create it with: sudo useradd --system padlock)"));
  }
  let st: Stats;
  try {
    st = lstatSync(dir);
  } catch {
    const parent = path.dirname(dir);
    let parentStat: Stats | undefined;
    try {
      parentStat = lstatSync(parent);
    } catch {
      /* reported below */
    }
    if (parentStat && canWrite(user, parentStat)) return [...results, ok(check, `${dir} does not exist yet; padlock will create it as ${user.name}`)];
    return [...results, fail(check, `${dir} does not exist and ${user.name} cannot create it in ${parent}`, `sudo install -d -m 700 -o ${user.name} -g ${groupName(user.gid)} ${dir}`)];
  }
  if (!st.isDirectory()) return [...results, fail(check, `${dir} is not a folder`, "point storage: at a folder")];

  const owner = userLabel(st.uid);
  const sameUser = process.getuid?.() === user.uid;
  const probe = sameUser ? writeProbe(dir) : undefined;
  const writable = sameUser ? probe === undefined : canWrite(user, st);
  if (!writable) {
    results.push(
      fail(
        check,
        `${dir} is not writable by ${user.name} (owner ${owner}, group ${groupName(st.gid)}, mode ${(st.mode & 0o777).toString(8).padStart(3, "0")}${probe ? `; writing failed with ${probe}` : ""})`,
        chownFix(user, dir),
      ),
    );
  } else if (st.uid !== user.uid) {
    results.push(warn(check, `${dir} is owned by ${owner}, not by ${user.name} who serves`, chownFix(user, dir)));
  } else {
    results.push(ok(check, `${dir} exists, is owned by ${user.name} and writable`));
  }
  results.push(checkContents(dir, user));
  return results;
}

function checkContents(dir: string, user: SystemUser): CheckResult {
  const check = `storage contents`;
  const rootOwned: string[] = [];
  const openKeys: string[] = [];
  let seen = 0;
  const walk = (folder: string) => {
    let entries: string[];
    try {
      entries = readdirSync(folder);
    } catch {
      return;
    }
    for (const entry of entries) {
      if (++seen > MAX_ENTRIES) return;
      const full = path.join(folder, entry);
      const st = lstatSync(full, { throwIfNoEntry: false });
      if (!st) continue;
      if (st.uid === 0 && user.uid !== 0) rootOwned.push(full);
      if (st.isFile() && isKeyFile(entry) && (st.mode & 0o077) !== 0) openKeys.push(`${full} (mode ${(st.mode & 0o777).toString(8)})`);
      if (st.isDirectory()) walk(full);
    }
  };
  walk(dir);
  const found: string[] = [];
  const fixes: string[] = [];
  if (rootOwned.length) {
    found.push(`owned by root while padlock serves as ${user.name}: ${list(rootOwned)}`);
    fixes.push(chownFix(user, dir));
  }
  if (openKeys.length) {
    found.push(`private keys readable by others: ${list(openKeys)}`);
    fixes.push(`chmod 600 ${openKeys.map((k) => k.replace(/ \(mode \d+\)$/, "")).join(" ")}`);
  }
  if (found.length === 0) return ok(check, `${seen} entr${seen === 1 ? "y" : "ies"}: none owned by root, keys 0600`);
  return fail(check, found.join("; "), fixes.join(" && "));
}

function list(items: string[]): string {
  return items.length > 5 ? `${items.slice(0, 5).join(", ")} and ${items.length - 5} more` : items.join(", ");
}
