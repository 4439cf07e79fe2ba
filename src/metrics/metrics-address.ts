// Where the metrics endpoint listens: loopback unless the config says otherwise on purpose,
// because the metrics name every site and certificate.
import { isIP } from "node:net";

export interface MetricsAddress {
  host: string;
  port: number;
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/;

/** The address, or a message saying what is wrong with `metrics.listen`. */
export function parseMetricsListen(listen: string, allowRemote: boolean): MetricsAddress | string {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(listen) ?? /^()()(\d{1,5})$/.exec(listen);
  if (!m || Number(m[3]) > 65535) return `"${listen}" is not HOST:PORT (e.g. 127.0.0.1:9190)`;
  const host = m[1] || m[2] || "127.0.0.1";
  if (host !== "localhost" && !isIP(host)) return `"${host}" is not an IP address; metrics listen on an address, e.g. 127.0.0.1:9190`;
  if (!LOOPBACK.test(host) && !allowRemote) {
    return `"${listen}" is reachable from other machines and the metrics name every site; use 127.0.0.1:PORT, or add allow_remote: true if a firewall or scraper network protects it`;
  }
  return { host, port: Number(m[3]) };
}
