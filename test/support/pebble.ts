// Pebble (Let's Encrypt's ACME test server, Debian `pebble`) on loopback, on free ports, with a
// throwaway CA for its own API. It never rejects nonces at random and never sleeps before
// validating, unless a test asks; it reuses an account's valid authorizations as rarely as it
// can be told to (PEBBLE_AUTHZREUSE=0 still leaves it about one in a hundred, so a test that
// needs a real validation deactivates them first). It resolves names with its own
// pebble-challtestsrv (`pebble.dns`), or with a DNS server of the test's choosing (`dnsServer`,
// Knot for DNS-01, say). Every test file gets its own.
import { spawn, type ChildProcess } from "node:child_process";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { Agent, request } from "undici";
import { ChallTestSrv } from "./challtestsrv.js";
import { freePort, tempDir, waitFor } from "./env.js";
import { stopProcess } from "./processes.js";
import { makeTestPki, type TestPki } from "./tls.js";

export interface PebbleOptions {
  /** Port Pebble connects to for HTTP-01 (padlock's HTTP port; default: a free one). */
  httpPort?: number;
  /** Port Pebble connects to for TLS-ALPN-01 (default: a free one). */
  tlsPort?: number;
  /** host:port of the DNS server Pebble asks; without it Pebble gets its own challtestsrv. */
  dnsServer?: string;
  /** Seconds; Pebble's default is 5 years. */
  certificateValidityPeriod?: number;
  /** Percent of nonces rejected with badNonce (Pebble's default is 5; 0 here unless asked). */
  nonceReject?: number;
  eabKeys?: Record<string, string>;
  /** Port of Pebble's ACME API (default: a free one). */
  listenPort?: number;
  /** Certificate for Pebble's API made beforehand (to trust it before Pebble runs). */
  api?: TestPki;
}

export interface Pebble {
  directoryUrl: string;
  /** PEM file of the throwaway CA that signed Pebble's API certificate (padlock's ca_root). */
  apiRootFile: string;
  apiRootPem: string;
  /** Pebble's API certificate and key (for 127.0.0.1), reused by test fronts. */
  apiCertFile: string;
  apiKeyFile: string;
  /** HTTPS origin of Pebble's API, e.g. https://127.0.0.1:PORT. */
  origin: string;
  /** The root that signs certificates Pebble issues (changes at every Pebble start). */
  issuingRoot(): Promise<string>;
  /** Pebble's management view of a certificate it issued, by serial (hex, any case). */
  certificateStatus(serialHex: string): Promise<Record<string, unknown>>;
  /** The DNS server Pebble resolves names with (its own challtestsrv). */
  dns: ChallTestSrv;
  logs(): string;
  /** Orders Pebble created so far, counted from its own log ("Added order …"). */
  ordersPlaced(): number;
  /** Orders Pebble finalized with a certificate so far, from its log ("Issued certificate serial …"). */
  certificatesIssued(): number;
  stop(): Promise<void>;
}

/** A certificate for Pebble's API (localhost, 127.0.0.1, ::1), signed by a throwaway CA. */
export function makeApiCertificate(dir: string): TestPki {
  return makeTestPki(["localhost", "127.0.0.1", "::1"], dir);
}

export function startPebble(options: PebbleOptions & { dnsServer: string }): Promise<Omit<Pebble, "dns">>;
export function startPebble(options?: PebbleOptions): Promise<Pebble>;
export async function startPebble(options: PebbleOptions = {}): Promise<Omit<Pebble, "dns"> & { dns?: ChallTestSrv }> {
  const dns = options.dnsServer === undefined ? await ChallTestSrv.start() : undefined;
  const dnsServer = options.dnsServer ?? dns!.address;
  // Free ports are found before Pebble binds them; another test may take one in between.
  for (let attempt = 1; ; attempt++) {
    try {
      const pebble = await startPebbleOnce(options, dnsServer);
      return { ...pebble, dns, stop: () => Promise.all([pebble.stop(), dns?.close()]).then(() => undefined) };
    } catch (err) {
      if (attempt >= 3 || !/address already in use/.test((err as Error).message)) {
        await dns?.close();
        throw err;
      }
    }
  }
}

async function startPebbleOnce(options: PebbleOptions, dnsServer: string): Promise<Omit<Pebble, "dns">> {
  const tmp = tempDir("pebble");
  const api = options.api ?? makeApiCertificate(tmp.dir);
  const [freeListenPort, managementPort, freeHttpPort, freeTlsPort] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
  const listenPort = options.listenPort ?? freeListenPort;
  const config = {
    pebble: {
      listenAddress: `127.0.0.1:${listenPort}`,
      managementListenAddress: `127.0.0.1:${managementPort}`,
      certificate: api.certFile,
      privateKey: api.keyFile,
      httpPort: options.httpPort ?? freeHttpPort,
      tlsPort: options.tlsPort ?? freeTlsPort,
      ocspResponderURL: "",
      externalAccountBindingRequired: options.eabKeys !== undefined,
      externalAccountMACKeys: options.eabKeys ?? {},
      ...(options.certificateValidityPeriod ? { certificateValidityPeriod: options.certificateValidityPeriod } : {}),
    },
  };
  const configFile = path.join(tmp.dir, "pebble.json");
  writeFileSync(configFile, JSON.stringify(config));
  const child: ChildProcess = spawn("pebble", ["-config", configFile, "-dnsserver", dnsServer], {
    env: { ...process.env, PEBBLE_VA_NOSLEEP: "1", PEBBLE_AUTHZREUSE: "0", PEBBLE_WFE_NONCEREJECT: String(options.nonceReject ?? 0) },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const output: string[] = [];
  child.stdout!.on("data", (d: Buffer) => output.push(d.toString()));
  child.stderr!.on("data", (d: Buffer) => output.push(d.toString()));

  const agent = new Agent({ connect: { ca: api.ca } });
  const origin = `https://127.0.0.1:${listenPort}`;
  const directoryUrl = `${origin}/dir`;
  const management = `https://127.0.0.1:${managementPort}`;
  const stop = async () => {
    await stopProcess(child);
    await agent.close();
    tmp.remove();
  };
  try {
    const exited = new Promise<never>((_, reject) => child.once("exit", (code) => reject(new Error(`pebble exited (code ${code}) during start-up`))));
    exited.catch(() => undefined);
    await Promise.race([exited, waitFor("Pebble to answer", async () => (await request(directoryUrl, { dispatcher: agent })).statusCode === 200, 20_000, 25)]);
  } catch (err) {
    await stop();
    throw new Error(`${(err as Error).message}\n${output.join("")}`);
  }
  return {
    directoryUrl,
    apiRootFile: api.caFile,
    apiRootPem: api.ca,
    apiCertFile: api.certFile,
    apiKeyFile: api.keyFile,
    origin,
    issuingRoot: async () => {
      const res = await request(`${management}/roots/0`, { dispatcher: agent });
      return res.body.text();
    },
    certificateStatus: async (serialHex) => {
      const res = await request(`${management}/cert-status-by-serial/${serialHex.toLowerCase()}`, { dispatcher: agent });
      const text = await res.body.text();
      if (res.statusCode !== 200) throw new Error(`Pebble cert-status-by-serial/${serialHex}: HTTP ${res.statusCode}: ${text}`);
      return JSON.parse(text) as Record<string, unknown>;
    },
    logs: () => output.join(""),
    ordersPlaced: () => output.join("").match(/Added order "[^"]+" to the db/g)?.length ?? 0,
    certificatesIssued: () => output.join("").match(/Issued certificate serial \w+ for order/g)?.length ?? 0,
    stop,
  };
}
