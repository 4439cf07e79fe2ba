// `padlock import certbot` and `padlock import nginx`: moving in from nginx + certbot. The
// certbot import shows its plan and writes nothing without --apply; it only reads certbot's
// folder. The nginx import writes a padlock.yaml and checks it as start-up would.
import { existsSync, writeFileSync } from "node:fs";
import path from "node:path";
import { ConfigError, formatProblem } from "../config/problems.js";
import { parseConfig } from "../config/load.js";
import { plural } from "../plural.js";
import { CertificateStore } from "../certificates/certificate-store.js";
import { createLogger } from "../log.js";
import { FsStorage } from "../storage/fs-storage.js";
import { storageDir } from "../storage/open-storage.js";
import { StorageError } from "../storage/storage.js";
import { PrivilegeError, switchToUser } from "../system/privileges.js";
import { applyImport } from "../import/certbot-apply.js";
import { CertbotFolderError, readCertbotFolder } from "../import/certbot-folder.js";
import { planImport } from "../import/certbot-plan.js";
import { formatPlan } from "../import/format-plan.js";
import { NginxSyntaxError, pathMap, readNginxConfig } from "../import/nginx-config.js";
import { translateNginx } from "../import/nginx-translate.js";
import { checkRevocation } from "../import/revocation.js";
import { fail } from "./exit.js";
import { loadConfigOrExit } from "./config-or-exit.js";

export interface CertbotFlags {
  config: string;
  apply?: boolean;
}

export async function importCertbotCommand(dir: string, flags: CertbotFlags): Promise<void> {
  const config = loadConfigOrExit(flags.config);
  const baseDir = path.dirname(path.resolve(flags.config));
  const storage = storageDir(config, baseDir);
  if (!storage) fail(`storage: ${config.storage} is not a folder; the import writes into a storage folder`);
  let folder;
  try {
    folder = await readCertbotFolder(dir);
  } catch (err) {
    if (err instanceof CertbotFolderError) fail(err.message);
    throw err;
  }
  const now = Date.now();
  // Says what a lock or a damaged file held up; the plan and what was written go to stdout.
  const log = createLogger({ level: "warn" });
  const plan = await planImport({
    folder,
    config,
    storageLocation: storage,
    store: existsSync(storage) ? new CertificateStore(FsStorage.existing(storage), log) : undefined,
    now,
    checkRevocation,
  });
  process.stdout.write(formatPlan(plan, now));
  const writes = plan.cas.reduce((n, ca) => n + Number(ca.account.action === "import") + ca.certificates.filter((c) => c.action === "write" || c.action === "replace").length, 0);
  if (!flags.apply) {
    process.stdout.write(writes ? `Nothing was written. Run again with --apply to write ${plural(writes, "item")} into ${storage}; certbot's folder is only read, never changed.\n` : "Nothing to write.\n");
    return;
  }
  if (writes === 0) return void process.stdout.write("Nothing to write.\n");
  try {
    const user = switchToUser(config.user, storage);
    if (user) process.stdout.write(`(writing as ${user}, the user padlock serves as)\n`);
    const done = await applyImport(plan, new CertificateStore(await FsStorage.open(storage), log));
    process.stdout.write(`Written:\n${done.map((line) => `  ${line}\n`).join("")}`);
    process.stdout.write(`padlock serves these from its next start (padlock serve --config ${flags.config}); a padlock already running reads them when restarted. certbot's folder was not changed.\n`);
  } catch (err) {
    if (err instanceof StorageError || err instanceof PrivilegeError) fail((err as Error).message, 1);
    throw err;
  }
}

export interface NginxFlags {
  output?: string;
  force?: boolean;
  ca?: string;
  email?: string;
  prefix?: string;
  mapPath?: string[];
}

export async function importNginxCommand(file: string, flags: NginxFlags): Promise<void> {
  const pairs = (flags.mapPath ?? []).map((pair): [string, string] => {
    const eq = pair.indexOf("=");
    if (eq <= 0 || !pair.startsWith("/")) fail(`--map-path ${pair}: expected NGINX_PATH=LOCAL_PATH, such as /etc/nginx=./services/nginx`);
    return [pair.slice(0, eq), path.resolve(pair.slice(eq + 1))];
  });
  const mapPath = pathMap(pairs);
  const prefix = flags.prefix === undefined ? undefined : path.resolve(flags.prefix);
  let directives;
  try {
    directives = readNginxConfig(file, { prefix, mapPath });
  } catch (err) {
    if (err instanceof NginxSyntaxError) fail(`${err.message} (nginx -t would refuse this file too)`);
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "EACCES" || code === "EISDIR") fail(`cannot read ${file}: ${code === "ENOENT" ? "no such file" : code === "EACCES" ? "permission denied" : "it is a folder"}`);
    throw err;
  }
  const output = flags.output;
  if (output && existsSync(output) && !flags.force) fail(`${output} exists; choose another --output, or add --force to replace it`);
  const outputDir = output ? path.dirname(path.resolve(output)) : process.cwd();
  const translation = translateNginx(directives, { source: file, prefix, mapPath, outputDir, ca: flags.ca, email: flags.email });
  if (output) writeFileSync(output, translation.yaml, { mode: 0o644 });
  else await new Promise<void>((resolve) => process.stdout.write(translation.yaml, () => resolve()));
  const written = output ?? "the padlock.yaml above";
  process.stderr.write(
    `${output ? `wrote ${output}: ` : ""}${plural(translation.config.sites.length, "site")}; ${plural(translation.untranslated.length, "thing")} not translated, ${translation.builtIn.length} left to padlock itself (listed in the comments at the top of ${output ?? "it"})\n`,
  );
  try {
    parseConfig(translation.yaml, output ?? path.join(outputDir, "padlock.yaml"));
    process.stderr.write(`${written} passes padlock's config checks; next: padlock doctor --config ${output ?? "padlock.yaml"}\n`);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`${written} has ${plural(err.problems.length, "problem")} to fix before padlock can start:\n${err.problems.map(formatProblem).join("\n")}\n`);
    process.exitCode = 1;
  }
}
