// Debian's Pebble on free loopback ports, with its API certificate from a throwaway test CA
// and pebble-challtestsrv as its DNS; HTTP-01 validations go to the port the test chooses.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { freePort } from "./free-port.js";
import { makeTestCa, type TestCa } from "./test-ca.js";

export class PebbleCa {
  private constructor(private readonly child: ChildProcess, private readonly dir: string, readonly directoryUrl: string, readonly apiCa: TestCa) {}

  static async start(options: { dnsServer: string; httpPort: number }): Promise<PebbleCa> {
    const dir = mkdtempSync(path.join(os.tmpdir(), "padlock-pebble-"));
    const apiCa = makeTestCa(dir);
    const listen = await freePort();
    const management = await freePort();
    const configFile = path.join(dir, "pebble.json");
    writeFileSync(
      configFile,
      JSON.stringify({
        pebble: {
          listenAddress: `127.0.0.1:${listen}`,
          managementListenAddress: `127.0.0.1:${management}`,
          certificate: path.join(dir, "server.pem"),
          privateKey: path.join(dir, "server.key"),
          httpPort: options.httpPort,
          tlsPort: await freePort(),
          ocspResponderURL: "",
          externalAccountBindingRequired: false,
        },
      }),
    );
    const child = spawn("pebble", ["-config", configFile, "-dnsserver", options.dnsServer], {
      env: { ...process.env, PEBBLE_VA_NOSLEEP: "1", PEBBLE_WFE_NONCEREJECT: "0", PEBBLE_AUTHZREUSE: "0" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout!.on("data", (d: Buffer) => (output += d));
    child.stderr!.on("data", (d: Buffer) => (output += d));
    const pebble = new PebbleCa(child, dir, `https://127.0.0.1:${listen}/dir`, apiCa);
    const deadline = Date.now() + 15_000;
    while (!output.includes("Listening on")) {
      if (child.exitCode !== null || Date.now() > deadline) {
        await pebble.close();
        throw new Error(`pebble did not start:\n${output}`);
      }
      await new Promise((r) => setTimeout(r, 25));
    }
    return pebble;
  }

  async close(): Promise<void> {
    if (this.child.exitCode === null) {
      await new Promise<void>((resolve) => {
        this.child.once("exit", () => resolve());
        this.child.kill();
      });
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
