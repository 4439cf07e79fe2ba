// Check: the storage folder is usable by the user padlock serves as — it exists (or padlock will
// create it), that user owns it and can write it, everything inside belongs to that user (padlock
// refuses to start otherwise), and keys are 0600. Each claim holds whether the doctor runs as
// root or as another user: what it cannot see for itself, it says it could not check.
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

  const me = process.getuid?.() ?? 0;
  const results: CheckResult[] = [];
  if (options.user && me !== 0 && me !== user.uid) {
    results.push(fail("serving user", `user: ${user.name} is set, but started as ${userLabel(me)} (not root) padlock cannot switch to it`, `start padlock as root (it switches to ${user.name} after binding its ports) or as ${user.name}`));
  }
  if (user.uid === 0) {
    results.push(warn("serving user", "padlock would keep running as root after binding its ports", "add user: padlock to the config (create it with: sudo useradd --system padlock)"));
  }
  let st: Stats;
  try {
    st = lstatSync(dir);
  } catch {
    return [...results, missingFolder(dir, user, options.user !== undefined && me === 0)];
  }
  if (!st.isDirectory()) return [...results, fail(check, `${dir} is not a folder`, "point storage: at a folder")];

  const owner = userLabel(st.uid);
  const sameUser = me === user.uid;
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
    results.push(fail(check, `${dir} is owned by ${owner}, but padlock serves as ${user.name} and must own it (it refuses to start otherwise)`, chownFix(user, dir)));
  } else {
    results.push(ok(check, `${dir} exists, is owned by ${user.name} and writable`));
  }
  results.push(checkContents(dir, user));
  return results;
}

/** Whether the serving user (or root, for it) can create the folder, with the nearest folder that exists. */
function missingFolder(dir: string, user: SystemUser, createdByRoot: boolean): CheckResult {
  const check = "storage";
  // serve, started as root with user:, creates it (and any missing parents) for that user.
  if (createdByRoot) return ok(check, `${dir} does not exist yet; padlock, started as root, creates it for ${user.name} before switching to that user`);
  let existing = path.dirname(dir);
  let existingStat: Stats | undefined;
  for (;;) {
    existingStat = lstatSync(existing, { throwIfNoEntry: false });
    if (existingStat || existing === path.dirname(existing)) break;
    existing = path.dirname(existing);
  }
  if (existingStat?.isDirectory() && (process.getuid?.() === user.uid ? writeProbe(existing) === undefined : canWrite(user, existingStat))) {
    return ok(check, `${dir} does not exist yet; padlock will create it as ${user.name}`);
  }
  return fail(check, `${dir} does not exist and ${user.name} cannot create it in ${existing}`, `sudo install -d -m 700 -o ${user.name} -g ${groupName(user.gid)} ${dir}`);
}

function checkContents(dir: string, user: SystemUser): CheckResult {
  const check = `storage contents`;
  const foreign = new Map<number, string[]>();
  const openKeys: string[] = [];
  const unreadable: string[] = [];
  let seen = 0;
  const walk = (folder: string) => {
    let entries: string[];
    try {
      entries = readdirSync(folder);
    } catch (err) {
      unreadable.push(`${folder} (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
      return;
    }
    for (const entry of entries) {
      if (++seen > MAX_ENTRIES) return;
      const full = path.join(folder, entry);
      const st = lstatSync(full, { throwIfNoEntry: false });
      if (!st) continue;
      if (st.uid !== user.uid) foreign.set(st.uid, [...(foreign.get(st.uid) ?? []), full]);
      if (st.isFile() && isKeyFile(entry) && (st.mode & 0o077) !== 0) openKeys.push(`${full} (mode ${(st.mode & 0o777).toString(8)})`);
      if (st.isDirectory()) walk(full);
    }
  };
  walk(dir);
  const found: string[] = [];
  const fixes: string[] = [];
  for (const [uid, files] of foreign) found.push(`owned by ${userLabel(uid)} while padlock serves as ${user.name}: ${list(files)}`);
  if (foreign.size) fixes.push(chownFix(user, dir));
  if (openKeys.length) {
    found.push(`private keys readable by others: ${list(openKeys)}`);
    fixes.push(`chmod 600 ${openKeys.map((k) => k.replace(/ \(mode \d+\)$/, "")).join(" ")}`);
  }
  const cannot = unreadable.length ? `could not look inside ${list(unreadable)}` : undefined;
  if (found.length) return fail(check, [...found, ...(cannot ? [cannot] : [])].join("; "), fixes.join(" && "));
  const counted = `${seen} entr${seen === 1 ? "y" : "ies"}`;
  if (cannot) return warn(check, seen ? `${counted} seen, all owned by ${user.name}, keys 0600; ${cannot}` : cannot, `run padlock doctor as ${user.name} or root to check what is inside`);
  return ok(check, `${counted}, all owned by ${user.name}; keys 0600`);
}

function list(items: string[]): string {
  return items.length > 5 ? `${items.slice(0, 5).join(", ")} and ${items.length - 5} more` : items.join(", ");
}
