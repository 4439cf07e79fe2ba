// System accounts by name or id, through getent so NSS sources (LDAP, systemd-homed) count too.
import { execFileSync } from "node:child_process";

export interface SystemUser {
  name: string;
  uid: number;
  gid: number;
}

/** The account with this name or numeric id, or undefined when there is none. */
export function lookupUser(nameOrId: string | number): SystemUser | undefined {
  let line: string;
  try {
    line = execFileSync("getent", ["passwd", String(nameOrId)], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).split("\n")[0] ?? "";
  } catch {
    return undefined;
  }
  const [name, , uid, gid] = line.split(":");
  if (!name || uid === undefined || gid === undefined) return undefined;
  return { name, uid: Number(uid), gid: Number(gid) };
}

/** "root", "padlock", or "uid 1234" when the id has no account. */
export function userLabel(uid: number): string {
  return lookupUser(uid)?.name ?? `uid ${uid}`;
}

export function currentUserLabel(): string {
  return typeof process.getuid === "function" ? userLabel(process.getuid()) : "the current user";
}
