// Check: the CA's directory is reachable (through ca_root when set) and what it offers — ARI,
// profiles, External Account Binding, terms — against what the config asks for.
import type { Config } from "../../config/schema.js";
import type { CaRoot } from "../../acme/ca-root.js";
import type { CaTarget } from "../ca-target.js";
import type { DirectoryFetch } from "../ca-directory.js";
import { fail, ok, type CheckResult } from "../check-result.js";

export function checkCaRoot(caRoot: CaRoot | undefined): CheckResult | undefined {
  if (!caRoot) return undefined;
  if (caRoot.error) return fail("CA root", caRoot.error, "point ca_root: at the PEM file of the root that signs the CA's API certificate");
  return ok("CA root", `${caRoot.file} is trusted for the CA's API, besides the system roots`);
}

export function checkCaDirectory(ca: CaTarget, fetched: DirectoryFetch, config: Config): CheckResult[] {
  if (fetched.kind === "error") return [fail("CA directory", fetched.found, fetched.fix)];
  const { directory, url } = fetched;
  const meta = directory.meta ?? {};
  const profiles = Object.keys(meta.profiles ?? {});
  const offers = [
    directory.renewalInfo ? "ARI renewal windows (renewalInfo)" : "no ARI (renewal at 2/3 of lifetime)",
    profiles.length ? `profiles ${profiles.join(", ")}` : "no profiles",
    meta.externalAccountRequired ? "External Account Binding required" : "no External Account Binding needed",
    meta.termsOfService ? `terms ${meta.termsOfService}` : "no terms of service",
  ];
  const results = [ok("CA directory", `${ca.name === url ? "" : `${ca.name}: `}${url} answers; it offers ${offers.join("; ")}`)];

  if (meta.termsOfService && config.accept_terms !== true) {
    results.push(fail("CA terms", `${ca.name} requires accepting its terms (${meta.termsOfService}); the config does not`, "read them, then add accept_terms: true to the config"));
  }
  if (meta.externalAccountRequired && !config.eab) {
    results.push(fail("CA account", `${ca.name} requires External Account Binding; the config has no eab:`, "add eab: { kid: …, hmac_key: … } from the CA's dashboard"));
  }
  for (const site of config.sites) {
    const wanted = site.tls?.profile;
    if (wanted && !profiles.includes(wanted)) {
      results.push(
        fail(
          `profile ${site.hosts[0]}`,
          `the site ${site.hosts.join(", ")} asks for profile "${wanted}", which ${ca.name} ${profiles.length ? `does not offer (it offers ${profiles.join(", ")})` : "does not support"}`,
          profiles.length ? `use one of ${profiles.join(", ")}, or remove profile:` : "remove profile: from that site",
        ),
      );
    }
  }
  return results;
}
