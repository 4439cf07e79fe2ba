// The smallest Pebble (Debian `pebble`) a DNS-01 test needs: on loopback, free ports, its API
// certificate issued by a throwaway internal CA, a DNS server of the test's choosing (Pebble
// looks up the _acme-challenge TXT records there), no random nonce rejections or sleeps, no
// authorization reuse. The fuller harness (challtestsrv, HTTP-01 ports) lives with the ACME
// certificate manager's tests.
import { spawn } from "node:child_process";
import https from "node:https";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { stopProcess } from "./processes.js";
import { InternalCa } from "../../src/tls/internal-ca.js";
import { FolderKeyFileStore } from "../../src/tls/key-files.js";

export interface MinimalPebble {
  directoryUrl: string;
  /** PEM of the CA that signed Pebble's API certificate (trust it for the API only). */
  apiCaPem: string;
  /** PEM of the root Pebble issues certificates under (changes at every start). */
  issuingRoot(): Promise<string>;
  stop(): Promise<void>;
}

export async function startMinimalPebble(options: { dnsServer: string }): Promise<MinimalPebble> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "padlock-pebble-"));
  const apiCa = await InternalCa.open(new FolderKeyFileStore(path.join(dir, "api-ca")));
  const apiCertificate = await apiCa.issue(["localhost", "127.0.0.1"]);
  await writeFile(path.join(dir, "api.crt"), apiCertificate.chainPem);
  await writeFile(path.join(dir, "api.key"), apiCertificate.keyPem);
  const [apiPort, managementPort, httpPort, tlsPort] = await freePorts(4);
  await writeFile(
    path.join(dir, "pebble.json"),
    JSON.stringify({
      pebble: {
        listenAddress: `127.0.0.1:${apiPort}`,
        managementListenAddress: `127.0.0.1:${managementPort}`,
        certificate: path.join(dir, "api.crt"),
        privateKey: path.join(dir, "api.key"),
        httpPort,
        tlsPort,
        ocspResponderURL: "",
        externalAccountBindingRequired: false,
      },
    }),
  );
  const child = spawn("pebble", ["-config", path.join(dir, "pebble.json"), "-dnsserver", options.dnsServer], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, PEBBLE_VA_NOSLEEP: "1", PEBBLE_WFE_NONCEREJECT: "0", PEBBLE_AUTHZREUSE: "0" },
  });
  let log = "";
  child.stdout!.setEncoding("utf8").on("data", (chunk: string) => (log += chunk));
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => (log += chunk));
  const ca = apiCa.rootCertificatePem;
  const directoryUrl = `https://127.0.0.1:${apiPort}/dir`;
  const stop = async () => {
    await stopProcess(child);
    await rm(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 15_000;
  while ((await get(directoryUrl, ca).catch(() => undefined)) === undefined) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`pebble did not start:\n${log}`);
    }
    await sleep(50);
  }
  return {
    directoryUrl,
    apiCaPem: ca,
    issuingRoot: () => get(`https://127.0.0.1:${managementPort}/roots/0`, ca),
    stop,
  };
}

function get(url: string, ca: string): Promise<string> {
  return new Promise((resolve, reject) => {
    https
      .get(url, { ca }, (res) => {
        let body = "";
        res.setEncoding("utf8").on("data", (chunk: string) => (body += chunk));
        res.on("end", () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`${url}: ${res.statusCode}`))));
      })
      .on("error", reject);
  });
}

async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: count }, () => new Promise<net.Server>((resolve) => {
      const server = net.createServer();
      server.listen(0, "127.0.0.1", () => resolve(server));
    })),
  );
  const ports = servers.map((s) => (s.address() as net.AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  return ports;
}

