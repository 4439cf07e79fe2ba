// padlock for the proxy benchmark, in its own process: the config from argv[2] (JSON), a
// certificate from argv[3]/argv[4] (key, cert PEM files) installed directly, its ports printed
// as one JSON line on stdout. Stops on SIGTERM.
import { readFileSync } from "node:fs";
import { createLogger } from "../src/log.js";
import { Padlock } from "../src/padlock.js";

const [configJson, keyFile, certFile, names] = process.argv.slice(2);
const padlock = await Padlock.start({
  config: JSON.parse(configJson!),
  baseDir: process.cwd(),
  log: createLogger({ format: "json", level: "warn" }),
  httpPort: 0,
  httpsPort: 0,
  listen: "127.0.0.1",
});
padlock.certificates.install(readFileSync(keyFile!, "utf8"), readFileSync(certFile!, "utf8"), names!.split(","), new Date(Date.now() + 86_400_000));
process.stdout.write(JSON.stringify({ https: padlock.edge.httpsPort, http: padlock.edge.httpPort }) + "\n");
process.once("SIGTERM", () => void padlock.close().then(() => process.exit(0)));
