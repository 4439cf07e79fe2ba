// `padlock` command line: parses arguments and hands off to one command module each. Command
// modules load only when their command runs, so `padlock trust` does not load the server.
import { Command, InvalidArgumentError, Option } from "commander";
import { fail } from "./exit.js";

function port(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > 65535) throw new InvalidArgumentError(`"${value}" is not a port number (0-65535).`);
  return n;
}

function seconds(value: string): number {
  const n = Number(value);
  if (!(n > 0)) throw new InvalidArgumentError(`"${value}" is not a number of seconds.`);
  return n;
}

const program = new Command("padlock")
  .description("Automatic HTTPS and a fast blog for people who run their own site.")
  .version("0.1.0")
  .showHelpAfterError();

program
  .command("serve", { isDefault: true })
  .description("Serve the configured sites (with no config: the bundled example blog on localhost)")
  .option("-c, --config <file>", "config file (padlock.yaml; default: $PADLOCK_CONFIG when that file exists)")
  .option("-s, --site <dir>", "serve this blog folder (content/, templates/, static/) on localhost")
  .option("--http-port <n>", "plain HTTP port (default 80 with --config, else 8080)", port)
  .option("--https-port <n>", "HTTPS port (default 443 with --config, else 8443)", port)
  .option("--listen <addr>", "address to listen on (default: all addresses)")
  .option("-w, --watch", "re-render the blog when its files change")
  .option("--log-format <format>", "json or pretty (default: pretty on a terminal, else json)")
  .option("--log-level <level>", "trace, debug, info, warn or error", "info")
  .action(async (flags) => (await import("./serve.js")).serveCommand(flags));

/** Where commands look for the config when not told: $PADLOCK_CONFIG (set in the container image), else ./padlock.yaml. */
const defaultConfig = process.env.PADLOCK_CONFIG || "padlock.yaml";

program
  .command("health")
  .description("Check that the padlock serving this config answers on its ports (exit 0) or not (exit 1); the container's health check")
  .option("-c, --config <file>", "config file (default: $PADLOCK_CONFIG when that file exists, else none, as serve)")
  .option("-s, --site <dir>", "padlock serves this blog folder (as serve --site)")
  .option("--http-port <n>", "plain HTTP port (default as serve)", port)
  .option("--https-port <n>", "HTTPS port (default as serve)", port)
  .option("--listen <addr>", "address padlock listens on (default: reach it on 127.0.0.1)")
  .option("--timeout <seconds>", "limit for each check", seconds, 5)
  .action(async (flags) => (await import("./health.js")).healthCommand(flags));

program
  .command("doctor")
  .description("Check everything a certificate needs (config, DNS, CAA, ports, a canary challenge, storage, clock, CA) before asking the CA")
  .option("-c, --config <file>", "config file", defaultConfig)
  .option("--json", "print the results as JSON (for scripts)")
  .option("--resolver <host:port>", "DNS server to ask, as the CA would (default $PADLOCK_RESOLVER, else the system's)")
  .option("--http-port <n>", "HTTP port to check (default: config http_port, else 80)", port)
  .option("--https-port <n>", "HTTPS port to check (default: config https_port, else 443)", port)
  .option("--timeout <seconds>", "limit for each network check (default 10)", seconds)
  .action(async (flags) => (await import("./doctor.js")).doctorCommand(flags));

const certs = program.command("certs").description("List, show, renew, revoke or forget certificates (through the running padlock, or from storage when none runs)");
const certsConfig = () => new Option("-c, --config <file>", "config file").default(defaultConfig);
certs
  .command("list")
  .description("Every stored certificate: names, issuer, not-after, days left, next renewal, last error")
  .addOption(certsConfig())
  .option("--json", "print JSON (for scripts)")
  .action(async (flags) => (await import("./certs.js")).certsCommand("list", undefined, flags));
certs
  .command("show <name>")
  .description("Everything known about the certificate that includes NAME")
  .addOption(certsConfig())
  .option("--json", "print JSON (for scripts)")
  .action(async (name: string, flags) => (await import("./certs.js")).certsCommand("show", name, flags));
certs
  .command("renew <name>")
  .description("Renew the certificate that includes NAME now if due; --force renews anyway (needs the running padlock)")
  .addOption(certsConfig())
  .option("--force", "renew even when not due")
  .option("--json", "print JSON (for scripts)")
  .action(async (name: string, flags) => (await import("./certs.js")).certsCommand("renew", name, flags));
certs
  .command("revoke <name>")
  .description("Revoke the certificate that includes NAME, then obtain a new one (needs the running padlock)")
  .addOption(certsConfig())
  .option("--reason <reason>", "RFC 5280 reason: unspecified, keyCompromise, superseded, cessationOfOperation, …", "unspecified")
  .option("--json", "print JSON (for scripts)")
  .action(async (name: string, flags) => (await import("./certs.js")).certsCommand("revoke", name, flags));
certs
  .command("forget <name>")
  .description("Delete the stored certificate and key that include NAME (never the CA account)")
  .addOption(certsConfig())
  .option("--json", "print JSON (for scripts)")
  .action(async (name: string, flags) => (await import("./certs.js")).certsCommand("forget", name, flags));

program
  .command("storage")
  .description("Work on padlock's storage")
  .command("copy <from> <to>")
  .description("Copy every certificate, key and account from one storage to another: folder paths or redis:// / rediss:// URLs (password from $PADLOCK_REDIS_PASSWORD), either way. Refuses to overwrite entries that are newer at TO")
  .option("--force", "overwrite entries that are newer at TO")
  .action(async (from: string, to: string, flags) => (await import("./storage.js")).storageCopyCommand(from, to, flags));

const imports = program.command("import").description("Move in from nginx + certbot: import certbot's certificates and account, translate nginx's config");
imports
  .command("certbot [dir]")
  .description("Import certbot's certificates and ACME account into padlock's storage, so nothing is ordered again (DIR: certbot's folder, default /etc/letsencrypt). Shows the plan; --apply writes it")
  .option("-c, --config <file>", "config file whose storage and sites the certificates are for", defaultConfig)
  .option("--apply", "write the plan into storage (without it nothing is written)")
  .action(async (dir: string | undefined, flags) => (await import("./import.js")).importCertbotCommand(dir ?? "/etc/letsencrypt", flags));
imports
  .command("nginx <file>")
  .description("Translate an nginx config (with its includes) into a padlock.yaml, saying what was not translated and why")
  .option("-o, --output <file>", "write the padlock.yaml here (default: standard output)")
  .option("--force", "replace --output when it exists")
  .option("--ca <ca>", "the CA for ca: (letsencrypt, letsencrypt-staging, zerossl or a directory URL)", "letsencrypt")
  .option("--email <address>", "contact address for the CA account (email:)")
  .option("--prefix <dir>", "nginx's prefix, which relative include, root and alias paths are relative to (default: the folder of FILE)")
  .option("--map-path <nginx=local>", "where one of nginx's folders is on this machine (nginx ran in a container), e.g. /usr/share/nginx/html=./site; may be repeated", (value: string, previous: string[] = []) => [...previous, value])
  .action(async (file: string, flags) => (await import("./import.js")).importNginxCommand(file, flags));

program
  .command("trust")
  .description("Show padlock's local root certificate (HTTPS for localhost); --install adds it to this machine's trust stores")
  .option("-c, --config <file>", "config file whose storage folder holds the root")
  .option("--storage <dir>", "storage folder holding the root (default: the config's, else ~/.local/share/padlock)")
  .option("--install", "install the root into the system trust store (needs root) and your NSS database")
  .addOption(new Option("--only <store>", "with --install: only this store").choices(["system", "nss"]))
  .action(async (flags) => (await import("./trust.js")).trustCommand(flags));

program
  .command("schema")
  .description("Print the JSON Schema of padlock.yaml (for editors)")
  .action(async () => (await import("./schema.js")).schemaCommand());

// `serve` is the default command, so without this a mistyped command would reach it as a stray
// argument ("too many arguments for 'serve'").
const [first] = process.argv.slice(2);
if (first !== undefined && !first.startsWith("-") && first !== "help" && !program.commands.some((c) => c.name() === first)) {
  const help = program.createHelp();
  const commands = help.visibleCommands(program).filter((c) => c.name() !== "help");
  const width = Math.max(...commands.map((c) => c.name().length));
  const list = commands.map((c) => `  ${c.name().padEnd(width)}  ${help.subcommandDescription(c)}`).join("\n");
  fail(`unknown command '${first}'. The commands are:\n${list}\nRun \`padlock help COMMAND\` for a command's options.`);
}

await program.parseAsync(process.argv);
