// `padlock` command line: parses arguments and hands off to one command module each.
import { Command, InvalidArgumentError } from "commander";
import { serveCommand } from "./serve.js";
import { schemaCommand } from "./schema.js";

function port(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > 65535) throw new InvalidArgumentError(`"${value}" is not a port number (0-65535).`);
  return n;
}

const program = new Command("padlock")
  .description("Automatic HTTPS and a fast blog for people who run their own site.")
  .version("0.1.0")
  .showHelpAfterError();

program
  .command("serve", { isDefault: true })
  .description("Serve the configured sites (with no config: the bundled example blog on localhost)")
  .option("-c, --config <file>", "config file (padlock.yaml)")
  .option("-s, --site <dir>", "serve this blog folder (content/, templates/, static/) on localhost")
  .option("--http-port <n>", "plain HTTP port (default 80 with --config, else 8080)", port)
  .option("--https-port <n>", "HTTPS port (default 443 with --config)", port)
  .option("--listen <addr>", "address to listen on (default: all addresses)")
  .option("-w, --watch", "re-render the blog when its files change")
  .option("--log-format <format>", "json or pretty (default: pretty on a terminal, else json)")
  .option("--log-level <level>", "trace, debug, info, warn or error", "info")
  .action(serveCommand);

program.command("schema").description("Print the JSON Schema of padlock.yaml (for editors)").action(schemaCommand);

await program.parseAsync(process.argv);
