// Network addresses as the config writes them: HOST:PORT for padlock's own endpoints (metrics,
// admin: loopback unless the config says otherwise on purpose, because they name every site and
// certificate), and the CIDRs of trusted_proxies.
import { isIP } from "node:net";

export interface ListenAddress {
  host: string;
  port: number;
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/;

/** The address, or a message saying what is wrong with it. `remoteHint` says how to allow others (omit: never). */
export function parseLoopbackListen(listen: string, allowRemote: boolean, remoteHint?: string): ListenAddress | string {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(listen) ?? /^()()(\d{1,5})$/.exec(listen);
  if (!m || Number(m[3]) > 65535) return `"${listen}" is not HOST:PORT (e.g. 127.0.0.1:9190)`;
  const host = m[1] || m[2] || "127.0.0.1";
  if (host !== "localhost" && !isIP(host)) return `"${host}" is not an IP address; use an address, e.g. 127.0.0.1:${m[3]}`;
  if (!LOOPBACK.test(host) && !allowRemote) {
    return `"${listen}" is reachable from other machines; use 127.0.0.1:PORT${remoteHint ? `, or ${remoteHint}` : ""}`;
  }
  return { host, port: Number(m[3]) };
}

export interface Cidr {
  address: string;
  prefix: number;
  family: "ipv4" | "ipv6";
}

/** "10.0.0.0/8", "2001:db8::/32" or a single address; undefined when it is none of these. */
export function parseCidr(cidr: string): Cidr | undefined {
  const [address = "", bits, ...rest] = cidr.trim().split("/");
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return undefined;
  const max = family === 4 ? 32 : 128;
  const prefix = bits === undefined ? max : /^\d{1,3}$/.test(bits) ? Number(bits) : NaN;
  if (!(prefix >= 0 && prefix <= max)) return undefined;
  return { address, prefix, family: family === 4 ? "ipv4" : "ipv6" };
}

/** Why a trusted_proxies entry is invalid, or undefined when it is fine. */
export function cidrProblem(cidr: string): string | undefined {
  return parseCidr(cidr) ? undefined : `"${cidr}" is not an IP address or CIDR; write e.g. 10.0.0.0/8, 192.168.1.5 or 2001:db8::/32`;
}
