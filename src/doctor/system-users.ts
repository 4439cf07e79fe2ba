// Users with their groups, as the doctor checks what the serving user may do: accounts as
// src/system/users.ts finds them (NSS through getent), supplementary groups from /etc/group.
import { readFileSync } from "node:fs";
import { lookupUser, type SystemUser as Account } from "../system/users.js";

export interface SystemUser extends Account {
  /** Primary and supplementary group ids. */
  groups: number[];
}

function table(file: string): string[][] {
  try {
    return readFileSync(file, "utf8")
      .split("\n")
      .filter((l) => l && !l.startsWith("#"))
      .map((l) => l.split(":"));
  } catch {
    return [];
  }
}

export function userByName(name: string): SystemUser | undefined {
  const user = lookupUser(name);
  return user ? withGroups(user.name, user.uid, user.gid) : undefined;
}

export function userById(uid: number): SystemUser | undefined {
  const user = lookupUser(uid);
  return user ? withGroups(user.name, uid, user.gid) : undefined;
}

function withGroups(name: string, uid: number, gid: number): SystemUser {
  const supplementary = table("/etc/group")
    .filter((r) => (r[3] ?? "").split(",").includes(name))
    .map((r) => Number(r[2]));
  return { name, uid, gid, groups: [...new Set([gid, ...supplementary])] };
}

export function groupName(gid: number): string {
  return table("/etc/group").find((r) => Number(r[2]) === gid)?.[0] ?? `gid ${gid}`;
}
