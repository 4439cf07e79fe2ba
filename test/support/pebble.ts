// Pebble (Let's Encrypt's ACME test server) and pebble-challtestsrv (its DNS) on loopback, on
// free ports, with a throwaway CA for Pebble's own API. Every test file gets its own pair.
import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import { writeFileSync, readFileSync } from "node:fs";
import path from "node:path";
import { Agent, request } from "undici";
import { freePort, tempDir, waitFor } from "./env.js";

export interface PebbleOptions {
  /** Port Pebble connects to for HTTP-01 (padlock's HTTP port). */
  httpPort: number;
  /** Port Pebble connects to for TLS-ALPN-01. */
  tlsPort?: number;
  /** Seconds; Pebble's default is 5 years. */
  certificateValidityPeriod?: number;
  /** Percent of nonces rejected with badNonce (Pebble's default is 5; 0 here unless asked). */
  nonceReject?: number;
  eabKeys?: Record<string, string>;
  /** Port of Pebble's ACME API (default: a free one). */
  listenPort?: number;
  /** Certificate for Pebble's API made beforehand (to trust it before Pebble runs). */
  api?: ApiCertificate;
}

export interface ApiCertificate {
  caFile: string;
  certFile: string;
  keyFile: string;
  pem: string;
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
  dns: ChallTestSrv;
  logs(): string;
  stop(): Promise<void>;
}

export interface ChallTestSrv {
  /** host:port of the DNS server Pebble resolves names with. */
  address: string;
  addA(host: string, addresses: string[]): Promise<void>;
  clearA(host: string): Promise<void>;
}

export async function startPebble(options: PebbleOptions): Promise<Pebble> {
  // Free ports are found before Pebble binds them; another test may take one in between.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startPebbleOnce(options);
    } catch (err) {
      if (attempt >= 3 || !/address already in use/.test((err as Error).message)) throw err;
    }
  }
}

async function startPebbleOnce(options: PebbleOptions): Promise<Pebble> {
  const tmp = tempDir("pebble");
  const apiRoot = options.api ?? makeApiCertificate(tmp.dir);
  const [dnsPort, dnsManagementPort, freeListenPort, managementPort] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
  const listenPort = options.listenPort ?? freeListenPort;
  const output: string[] = [];
  const children: ChildProcess[] = [];
  const startChild = (cmd: string, args: string[], env: NodeJS.ProcessEnv = {}) => {
    const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    child.stdout!.on("data", (d: Buffer) => output.push(d.toString()));
    child.stderr!.on("data", (d: Buffer) => output.push(d.toString()));
    children.push(child);
    return child;
  };
  startChild("pebble-challtestsrv", [
    "-dns01", `127.0.0.1:${dnsPort}`,
    "-management", `127.0.0.1:${dnsManagementPort}`,
    "-http01", "", "-https01", "", "-tlsalpn01", "",
    "-defaultIPv4", "127.0.0.1", "-defaultIPv6", "",
  ]);
  const config = {
    pebble: {
      listenAddress: `127.0.0.1:${listenPort}`,
      managementListenAddress: `127.0.0.1:${managementPort}`,
      certificate: apiRoot.certFile,
      privateKey: apiRoot.keyFile,
      httpPort: options.httpPort,
      tlsPort: options.tlsPort ?? (await freePort()),
      ocspResponderURL: "",
      externalAccountBindingRequired: options.eabKeys !== undefined,
      externalAccountMACKeys: options.eabKeys ?? {},
      ...(options.certificateValidityPeriod ? { certificateValidityPeriod: options.certificateValidityPeriod } : {}),
    },
  };
  const configFile = path.join(tmp.dir, "pebble.json");
  writeFileSync(configFile, JSON.stringify(config));
  startChild("pebble", ["-config", configFile, "-dnsserver", `127.0.0.1:${dnsPort}`], {
    PEBBLE_VA_NOSLEEP: "1",
    PEBBLE_AUTHZREUSE: "0",
    PEBBLE_WFE_NONCEREJECT: String(options.nonceReject ?? 0),
  });

  const agent = new Agent({ connect: { ca: apiRoot.pem } });
  const origin = `https://127.0.0.1:${listenPort}`;
  const directoryUrl = `${origin}/dir`;
  const management = `https://127.0.0.1:${managementPort}`;
  const dnsManagement = `http://127.0.0.1:${dnsManagementPort}`;
  const stop = async () => {
    await Promise.all(
      children.map((c) => new Promise<void>((resolve) => (c.exitCode !== null || c.signalCode !== null ? resolve() : (c.once("exit", () => resolve()), c.kill("SIGTERM"))))),
    );
    await agent.close();
    tmp.remove();
  };
  try {
    const exited = new Promise<never>((_, reject) =>
      children.forEach((c) => c.once("exit", (code) => reject(new Error(`${c.spawnfile} exited (code ${code}) during start-up`)))),
    );
    exited.catch(() => undefined);
    await Promise.race([exited, waitFor("Pebble to answer", async () => (await request(directoryUrl, { dispatcher: agent })).statusCode === 200, 20_000, 25)]);
    await waitFor("challtestsrv to answer", async () => {
      const res = await request(`${dnsManagement}/clear-a`, { method: "POST", body: JSON.stringify({ host: "ready.test" }) });
      await res.body.dump();
      return res.statusCode === 200;
    });
  } catch (err) {
    await stop();
    throw new Error(`${(err as Error).message}\n${output.join("")}`);
  }
  const dnsPost = async (what: string, body: unknown) => {
    const res = await request(`${dnsManagement}/${what}`, { method: "POST", body: JSON.stringify(body) });
    await res.body.dump();
    if (res.statusCode !== 200) throw new Error(`challtestsrv ${what}: HTTP ${res.statusCode}`);
  };
  return {
    directoryUrl,
    apiRootFile: apiRoot.caFile,
    apiRootPem: apiRoot.pem,
    apiCertFile: apiRoot.certFile,
    apiKeyFile: apiRoot.keyFile,
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
    dns: {
      address: `127.0.0.1:${dnsPort}`,
      addA: (host, addresses) => dnsPost("add-a", { host, addresses }),
      clearA: (host) => dnsPost("clear-a", { host }),
    },
    logs: () => output.join(""),
    stop,
  };
}

/** A throwaway CA and a certificate for 127.0.0.1/localhost signed by it, via the openssl CLI. */
export function makeApiCertificate(dir: string): ApiCertificate {
  const f = (n: string) => path.join(dir, n);
  const openssl = (...args: string[]) => execFileSync("openssl", args, { stdio: ["ignore", "ignore", "pipe"] });
  openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", f("ca.key"), "-out", f("ca.pem"), "-days", "2", "-subj", "/CN=padlock test API CA");
  openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", f("key.pem"), "-out", f("api.csr"), "-subj", "/CN=localhost");
  writeFileSync(f("ext.cnf"), "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n");
  openssl("x509", "-req", "-in", f("api.csr"), "-CA", f("ca.pem"), "-CAkey", f("ca.key"), "-CAcreateserial", "-out", f("cert.pem"), "-days", "2", "-extfile", f("ext.cnf"));
  return { caFile: f("ca.pem"), certFile: f("cert.pem"), keyFile: f("key.pem"), pem: readFileSync(f("ca.pem"), "utf8") };
}
