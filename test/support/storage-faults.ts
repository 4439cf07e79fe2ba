// Storage that stops being writable for real, for a padlock run as root (which chmod does not
// stop): the padlock runs in a mount namespace of its own where its storage folder is a bind
// mount, which the test remounts read-only and back while it runs. Nothing outside that
// namespace sees the change, and the namespace goes with the process.
import { execFileSync } from "node:child_process";

/** SpawnOptions.prefix: padlock in its own mount namespace, with `dir` a bind mount there. */
export function ownMountNamespace(dir: string): string[] {
  return ["unshare", "--mount", "--propagation", "private", "sh", "-c", 'mount --bind "$0" "$0" && exec "$@"', dir];
}

/** Remounts `dir` read-only (or writable again) inside the mount namespace of process `pid`. */
export function setReadOnly(pid: number, dir: string, readOnly: boolean): void {
  execFileSync("nsenter", [`--target=${pid}`, "--mount", "mount", "-o", `remount,bind,${readOnly ? "ro" : "rw"}`, dir], { stdio: ["ignore", "ignore", "pipe"] });
}
