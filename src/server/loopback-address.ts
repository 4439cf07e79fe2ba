// HOST:PORT for padlock's own endpoints (metrics, admin): loopback unless the config says
// otherwise on purpose, because they name every site and certificate.
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
