// pebble-challtestsrv as a DNS server the tests control: its challenge responders are off,
// every name answers 127.0.0.1 unless a test says otherwise through the management API.
import { spawn, type ChildProcess } from "node:child_process";
import { freePort } from "./env.js";
import { stopProcess } from "./processes.js";

export interface CaaPolicy {
  tag: "issue" | "issuewild" | "iodef" | string;
  value: string;
}

export class ChallTestSrv {
  private constructor(
    private readonly child: ChildProcess,
    /** host:port of the DNS server (UDP and TCP). */
    readonly address: string,
    private readonly managementUrl: string,
  ) {}

  static async start(): Promise<ChallTestSrv> {
    for (let attempt = 1; ; attempt++) {
      const dnsPort = await freePort();
      const managementPort = await freePort();
      const child = spawn(
        "pebble-challtestsrv",
        ["-dns01", `127.0.0.1:${dnsPort}`, "-management", `127.0.0.1:${managementPort}`, "-http01", "", "-https01", "", "-tlsalpn01", "", "-defaultIPv4", "127.0.0.1", "-defaultIPv6", ""],
        { stdio: ["ignore", "pipe", "pipe"] },
      );
      let output = "";
      child.stdout!.on("data", (d: Buffer) => (output += d));
      child.stderr!.on("data", (d: Buffer) => (output += d));
      const server = new ChallTestSrv(child, `127.0.0.1:${dnsPort}`, `http://127.0.0.1:${managementPort}`);
      if (await server.waitReady()) return server;
      await stopProcess(child);
      // Another process may have taken one of the ports between choosing and binding.
      if (attempt >= 3) throw new Error(`pebble-challtestsrv did not start:\n${output}`);
    }
  }

  private async waitReady(): Promise<boolean> {
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      if (this.child.exitCode !== null) return false;
      try {
        await this.clearA("ready.invalid");
        return true;
      } catch {
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    return false;
  }

  private async post(path: string, body: unknown): Promise<void> {
    const res = await fetch(this.managementUrl + path, { method: "POST", body: JSON.stringify(body) });
    if (!res.ok) throw new Error(`challtestsrv ${path}: ${res.status} ${await res.text()}`);
  }

  addA(host: string, addresses: string[]): Promise<void> {
    return this.post("/add-a", { host, addresses });
  }

  clearA(host: string): Promise<void> {
    return this.post("/clear-a", { host });
  }

  addAAAA(host: string, addresses: string[]): Promise<void> {
    return this.post("/add-aaaa", { host, addresses });
  }

  addCaa(host: string, policies: CaaPolicy[]): Promise<void> {
    return this.post("/add-caa", { host, policies });
  }

  setCname(host: string, target: string): Promise<void> {
    return this.post("/set-cname", { host, target });
  }

  close(): Promise<void> {
    return stopProcess(this.child);
  }
}
