// User and group names ↔ ids, from /etc/passwd and /etc/group (Node has no getpwnam).
import { readFileSync } from "node:fs";

export interface SystemUser {
  name: string;
  uid: number;
  gid: number;
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
  const row = table("/etc/passwd").find((r) => r[0] === name);
  return row ? withGroups(name, Number(row[2]), Number(row[3])) : undefined;
}

export function userById(uid: number): SystemUser | undefined {
  const row = table("/etc/passwd").find((r) => Number(r[2]) === uid);
  return row ? withGroups(row[0]!, uid, Number(row[3])) : undefined;
}

function withGroups(name: string, uid: number, gid: number): SystemUser {
  const supplementary = table("/etc/group")
    .filter((r) => (r[3] ?? "").split(",").includes(name))
    .map((r) => Number(r[2]));
  return { name, uid, gid, groups: [...new Set([gid, ...supplementary])] };
}

export function userName(uid: number): string {
  return userById(uid)?.name ?? `uid ${uid}`;
}

export function groupName(gid: number): string {
  return table("/etc/group").find((r) => Number(r[2]) === gid)?.[0] ?? `gid ${gid}`;
}
