// Writes an import plan into padlock's storage through the certificate store, the way the
// certificate manager writes its own files and under the same locks: the account as if padlock
// had registered it, each certificate switched in (key 0600, atomic writes, the pair renamed into
// place), with meta.json naming the lineage it came from. A certificate it replaces is kept
// beside it as `<file>.replaced-<time>`.
import type { CertificateStore } from "../certificates/certificate-store.js";
import type { ImportPlan } from "./certbot-plan.js";

/** Resolves to one line per thing written. */
export async function applyImport(plan: ImportPlan, store: CertificateStore): Promise<string[]> {
  const done: string[] = [];
  for (const ca of plan.cas) {
    const account = ca.account;
    if (account.action === "import") {
      await store.importAccount(ca.directoryUrl, { keyPem: account.keyPem, url: account.url, contact: account.contact });
      done.push(`account ${account.url} → ${store.accountFolder(ca.directoryUrl)}`);
    }
    for (const c of ca.certificates) {
      if (c.action !== "write" && c.action !== "replace") continue;
      const names = c.cert.meta.names.join(", ");
      const lock = await store.lockSet(ca.directoryUrl, c.folder, names);
      let stamp: string | undefined;
      try {
        if (c.action === "replace") stamp = await store.keepAsReplaced(c.folder);
        await store.switchIn(c.folder, c.cert);
      } finally {
        await lock.release();
      }
      done.push(`${names}: certificate ${c.cert.info.serial} from ${c.lineage} → ${store.describe(c.folder)}${stamp ? ` (the one there before is kept as *.replaced-${stamp})` : ""}`);
    }
  }
  return done;
}
