// Headless Chromium (Debian's /usr/bin/chromium driven by playwright-core) with a fresh profile
// and a HOME of the test's choosing, so its NSS trust store ($HOME/.pki/nssdb) is the test's.
import { chromium, type BrowserContext } from "playwright-core";
import { execFile } from "node:child_process";
import { mkdir, mkdtemp } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { tempDir } from "./env.js";

const run = promisify(execFile);

const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** Creates an empty NSS database at $home/.pki/nssdb, where Chromium on Linux looks for user trust. */
export async function createNssDb(home: string): Promise<string> {
  const db = path.join(home, ".pki", "nssdb");
  await mkdir(db, { recursive: true });
  await run("certutil", ["-N", "-d", `sql:${db}`, "--empty-password"]);
  return db;
}

export async function trustInNssDb(db: string, rootPemPath: string, nickname = "padlock"): Promise<void> {
  await run("certutil", ["-A", "-d", `sql:${db}`, "-t", "C,,", "-n", nickname, "-i", rootPemPath]);
}

/** A browser whose HOME (hence NSS db) is `home`; its profile lives in a fresh folder under it. */
export async function launchChromium(home: string): Promise<BrowserContext> {
  const userDataDir = await mkdtemp(path.join(home, "chromium-profile-"));
  return chromium.launchPersistentContext(userDataDir, {
    executablePath: "/usr/bin/chromium",
    headless: true,
    args: CHROMIUM_ARGS,
    env: { ...process.env, HOME: home },
  });
}

/** A HOME of its own (hence an NSS database of its own) for a browser. */
export function tempHome(): { dir: string; remove: () => void } {
  return tempDir("home");
}
