// A TLS scan with the openssl command line, as testssl.sh does it: one handshake per protocol
// version, TLS 1.2 cipher suite, TLS 1.3 suite and key-exchange group the local OpenSSL knows,
// reporting which the server accepted. Also which of two suites the server picks when the client
// offers them in either order, and whether a TLS 1.3 session resumes.
import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { tempDir } from "./env.js";

const run = promisify(execFile);

export interface TlsScan {
  protocols: string[];
  tls12Suites: string[];
  tls13Suites: string[];
  groups: string[];
  /** For two TLS 1.2 suites offered in both orders: what the server chose each time. */
  chosen: [string, string];
  /** A TLS 1.3 session from one connection was resumed on the next. */
  resumed: boolean;
}

const TLS13_SUITES = ["TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256", "TLS_AES_128_CCM_SHA256", "TLS_AES_128_CCM_8_SHA256"];
const GROUPS = ["X25519", "X448", "P-256", "P-384", "P-521", "ffdhe2048", "ffdhe3072", "ffdhe4096", "ffdhe6144", "ffdhe8192"];
const PROTOCOLS: [string, string][] = [
  ["TLSv1", "-tls1"],
  ["TLSv1.1", "-tls1_1"],
  ["TLSv1.2", "-tls1_2"],
  ["TLSv1.3", "-tls1_3"],
];

/**
 * One handshake (no SNI when `servername` is undefined); what openssl printed. With `request`,
 * also sends it and reads the answer until the server closes (a TLS 1.3 session ticket comes
 * after the handshake: s_client must stay that long to save it).
 */
function handshake(port: number, servername: string | undefined, flags: string[], request?: string): Promise<string> {
  const sni = servername === undefined ? ["-noservername"] : ["-servername", servername];
  const args = ["s_client", "-connect", `127.0.0.1:${port}`, ...sni, ...flags, ...(request ? ["-ign_eof"] : [])];
  return new Promise((resolve) => {
    const child = execFile("openssl", args, { timeout: 10_000 }, (_err, stdout, stderr) => resolve(stdout + stderr));
    child.stdin!.end(request ?? ""); // without a request, s_client ends after the handshake
  });
}

function negotiated(output: string): string | undefined {
  const cipher = /, Cipher is ([^\s]+)/.exec(output)?.[1];
  return cipher === undefined || cipher === "(NONE)" ? undefined : cipher;
}

/** Runs `task` over `items`, `limit` at a time. */
async function eachLimited<T, R>(items: T[], limit: number, task: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) {
        const i = next++;
        results[i] = await task(items[i]!);
      }
    }),
  );
  return results;
}

export async function scanTls(port: number, servername: string | undefined, preferenceProbe: [string, string]): Promise<TlsScan> {
  const { stdout } = await run("openssl", ["ciphers", "-tls1_2", "ALL:COMPLEMENTOFALL:@SECLEVEL=0"]);
  // PSK and SRP suites authenticate with a shared secret padlock never has: not worth a handshake each.
  const tls12Candidates = stdout.trim().split(":").filter((c) => !c.startsWith("TLS_") && !/PSK|SRP/.test(c));
  const accepted = async (flags: string[]) => negotiated(await handshake(port, servername, flags)) !== undefined;

  const protocols = (await eachLimited(PROTOCOLS, 4, async ([name, flag]) => ((await accepted([flag, "-cipher", "ALL:@SECLEVEL=0"])) ? name : undefined))).filter((p) => p !== undefined);
  const tls12Suites = (await eachLimited(tls12Candidates, 8, async (c) => ((await accepted(["-tls1_2", "-cipher", `${c}:@SECLEVEL=0`])) ? c : undefined))).filter((c) => c !== undefined);
  const tls13Suites = (await eachLimited(TLS13_SUITES, 5, async (s) => ((await accepted(["-tls1_3", "-ciphersuites", s])) ? s : undefined))).filter((s) => s !== undefined);
  const groups = (await eachLimited(GROUPS, 5, async (g) => ((await accepted(["-tls1_3", "-groups", g])) ? g : undefined))).filter((g) => g !== undefined);
  const [a, b] = preferenceProbe;
  const chosen: [string, string] = [
    negotiated(await handshake(port, servername, ["-tls1_2", "-cipher", `${a}:${b}`])) ?? "(none)",
    negotiated(await handshake(port, servername, ["-tls1_2", "-cipher", `${b}:${a}`])) ?? "(none)",
  ];

  const { dir, remove } = tempDir("tls-scan");
  try {
    const session = path.join(dir, "session.pem");
    await handshake(port, servername, ["-tls1_3", "-sess_out", session], `GET / HTTP/1.1\r\nHost: ${servername ?? "localhost"}\r\nConnection: close\r\n\r\n`);
    const resumed = /^Reused, TLSv1\.3/m.test(await handshake(port, servername, ["-tls1_3", "-sess_in", session]));
    return { protocols, tls12Suites, tls13Suites, groups, chosen, resumed };
  } finally {
    remove();
  }
}
