// Started as root (to bind ports 80 and 443), padlock switches to an unprivileged user before it
// touches storage, so no file it writes belongs to root.
import { existsSync, mkdirSync, chownSync, statSync } from "node:fs";
import path from "node:path";
import { PadlockError } from "../errors.js";
import type { Logger } from "../log.js";
import { currentUserLabel, lookupUser, userLabel, type SystemUser } from "./users.js";

export class PrivilegeError extends PadlockError {
  override name = "PrivilegeError";

  constructor(message: string) {
    super("PRIVILEGES", message);
  }
}

const isRoot = () => typeof process.getuid === "function" && process.getuid() === 0;

/**
 * Switches to `user` when running as root. A storage folder that does not exist yet is created
 * for that user first (it may live where only root can create it, like /var/lib).
 */
export function dropPrivileges(userName: string | undefined, storageDir: string | undefined, log: Logger): void {
  if (!userName) {
    if (isRoot()) log.warn("running as root: files padlock writes will belong to root; set user: in the config (e.g. user: padlock) so padlock switches to it after binding its ports");
    return;
  }
  const user = existingUser(userName);
  if (!isRoot()) {
    if (process.getuid?.() === user.uid) return;
    throw new PrivilegeError(
      `user: "${userName}" is set, but padlock was started as ${currentUserLabel()}, not root, so it cannot switch users; start it as root, or as ${userName}, or remove user:`,
    );
  }
  if (storageDir && !existsSync(storageDir)) createFolderFor(user, storageDir);
  become(user);
  log.info(`ports bound; now running as ${user.name} (uid ${user.uid}) instead of root`);
}

/**
 * For a command run as root that writes into storage (an import): switches to the user padlock
 * serves as, so every file it writes belongs to that user: `user:` from the config, else the
 * owner of an existing storage folder. Returns that user's name, or undefined when nothing
 * changed (not root, or storage that root owns or that does not exist yet).
 */
export function switchToUser(userName: string | undefined, storageDir: string): string | undefined {
  if (!isRoot()) return undefined;
  if (userName) {
    const user = existingUser(userName);
    if (!existsSync(storageDir)) createFolderFor(user, storageDir);
    become(user);
    return user.name;
  }
  if (!existsSync(storageDir)) return undefined;
  const { uid, gid } = statSync(storageDir);
  if (uid === 0) return undefined;
  become({ uid, gid });
  return userLabel(uid);
}

function existingUser(userName: string): SystemUser {
  const user = lookupUser(userName);
  if (!user) throw new PrivilegeError(`user: "${userName}" does not exist on this machine; create it with: sudo useradd --system --no-create-home --shell /usr/sbin/nologin ${userName}`);
  return user;
}

function become(user: { uid: number; gid: number }): void {
  process.setgroups!([user.gid]);
  process.setgid!(user.gid);
  process.setuid!(user.uid);
}

function createFolderFor(user: SystemUser, dir: string): void {
  const missing: string[] = [];
  for (let d = path.resolve(dir); !existsSync(d); d = path.dirname(d)) missing.unshift(d);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  for (const d of missing) chownSync(d, user.uid, user.gid);
}
