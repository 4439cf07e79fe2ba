// Writes an import plan into padlock's storage the way the certificate manager writes its own
// files, under the same locks: the account through storeAccount(), each certificate through
// switchIn() (key 0600, atomic writes, the pair renamed into place), with meta.json naming the
// lineage it came from. A certificate it replaces is kept beside it as `<file>.replaced-<time>`.
import { accountLockName, storeAccount } from "../acme/account.js";
import { setLockName, SET_FILES, switchIn } from "../acme/stored-set.js";
import type { Storage } from "../storage/storage.js";
import type { ImportPlan } from "./certbot-plan.js";

/** Resolves to one line per thing written. */
export async function applyImport(plan: ImportPlan, storage: Storage, now: Date): Promise<string[]> {
  const done: string[] = [];
  const stamp = now.toISOString().replace(/[-:]/g, "");
  for (const ca of plan.cas) {
    const account = ca.account;
    if (account.action === "import") {
      const lock = await storage.lock(accountLockName(ca.caId));
      try {
        await storeAccount(storage, ca.caId, { keyPem: account.keyPem, url: account.url, contact: account.contact });
      } finally {
        await lock.release();
      }
      done.push(`account ${account.url} → ${storage.describe(`accounts/${ca.caId}/`)}`);
    }
    for (const c of ca.certificates) {
      if (c.action !== "write" && c.action !== "replace") continue;
      const lock = await storage.lock(setLockName(ca.caId, c.folder));
      try {
        if (c.action === "replace") {
          for (const file of [SET_FILES.cert, SET_FILES.key, SET_FILES.meta]) {
            const key = `${c.folder}/${file}`;
            if (await storage.get(key)) await storage.move(key, `${key}.replaced-${stamp}`);
          }
        }
        await switchIn(storage, c.folder, c.cert);
      } finally {
        await lock.release();
      }
      done.push(`${c.cert.meta.names.join(", ")}: certificate ${c.cert.info.serial} from ${c.lineage} → ${storage.describe(c.folder)}${c.action === "replace" ? ` (the one there before is kept as *.replaced-${stamp})` : ""}`);
    }
  }
  return done;
}
