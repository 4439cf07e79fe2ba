// The forwarding headers that tell an upstream about the client. Upstreams always receive one
// chain that ends with the client padlock determined (src/server/client-address.ts), so an app
// trusts exactly one hop (padlock) whether or not a load balancer sits in front.
import type { IncomingHttpHeaders } from "node:http";
import { headerList, type Client } from "../server/client-address.js";

// Everything a proxy in front of padlock could have told us; never passed on as received.
const INCOMING_FORWARDING: ReadonlySet<string> = new Set(["forwarded", "x-forwarded-for", "x-forwarded-proto", "x-forwarded-host", "x-forwarded-port", "x-real-ip"]);

/**
 * Fields some applications and frameworks read as the client's address instead of
 * X-Forwarded-For: passed on only from a trusted proxy, else a visitor could choose the address an
 * app logs and rate limits.
 */
export const CLIENT_ADDRESS_FIELDS: ReadonlySet<string> = new Set([
  "client-ip",
  "true-client-ip",
  "cf-connecting-ip",
  "x-client-ip",
  "x-cluster-client-ip",
  "fastly-client-ip",
  "x-original-forwarded-for",
]);

// Request fields never copied upstream: the forwarding headers are rebuilt from what padlock
// determined, and Node's server already answered Expect: 100-continue.
const NEVER_FORWARDED: ReadonlySet<string> = new Set([...INCOMING_FORWARDING, "expect"]);
const notFromTrusted = (name: string) => NEVER_FORWARDED.has(name);
/**
 * From anyone else, also no client-address field and no field with an underscore in its name:
 * CGI, WSGI, PHP and others turn `X_Forwarded_For` into the same variable as `X-Forwarded-For`
 * (nginx drops such fields by default for this reason).
 */
const notFromUntrusted = (name: string) => NEVER_FORWARDED.has(name) || CLIENT_ADDRESS_FIELDS.has(name) || name.includes("_");

/**
 * The header fields for the request to an upstream: the client's end-to-end fields minus what
 * only a trusted proxy may send, then padlock's own forwarding headers. `websocket` keeps the
 * Upgrade handshake fields (Upgrade: websocket is the one upgrade passed on).
 */
export function upstreamRequestHeaders(headers: IncomingHttpHeaders, client: Client, websocket = false): Record<string, string | string[] | undefined> {
  const out = endToEndHeaders(headers, websocket, client.peerTrusted ? notFromTrusted : notFromUntrusted);
  setForwardingHeaders(out, client);
  return out;
}

/** Sets the forwarding headers sent upstream (on headers that hold none of INCOMING_FORWARDING). */
export function setForwardingHeaders(headers: Record<string, string | string[] | undefined>, client: Client): void {
  const chain = client.chain;
  const last = `for=${forwardedNode(client.ip)};host=${quoteIfNeeded(client.host)};proto=${client.proto}`;
  headers["x-forwarded-for"] = chain.length === 1 ? chain[0] : chain.join(", ");
  headers["x-forwarded-proto"] = client.proto;
  headers["x-forwarded-host"] = client.host;
  headers["x-real-ip"] = client.ip;
  headers["forwarded"] = chain.length === 1 ? last : [...chain.slice(0, -1).map((address) => `for=${forwardedNode(address)}`), last].join(", ");
}

/** RFC 7239 node: IPv6 in brackets and quotes, IPv4 bare, anything else ("unknown", obfuscated) quoted if needed. */
function forwardedNode(address: string): string {
  if (address.includes(":")) return `"[${address}]"`; // chain entries are IP addresses, so ":" means IPv6
  return quoteIfNeeded(address);
}

function quoteIfNeeded(value: string): string {
  return /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(value) ? value : `"${value.replace(/["\\]/g, "\\$&")}"`;
}

// RFC 9110 §7.6.1 connection-specific fields, plus the legacy ones proxies still see.
const HOP_BY_HOP = new Set(["connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade"]);
const SIMPLE_CONNECTION: ReadonlySet<unknown> = new Set(["keep-alive", "close", "Keep-Alive", "Close"]);

/**
 * Copies headers without hop-by-hop fields (including those the Connection header names), without
 * HTTP/2 pseudo-headers and without the names `drop` picks. `keepUpgrade` keeps Connection: upgrade
 * / Upgrade for WebSocket.
 */
export function endToEndHeaders(
  headers: IncomingHttpHeaders,
  keepUpgrade = false,
  drop?: (name: string) => boolean,
): Record<string, string | string[] | undefined> {
  const connection = headers.connection;
  // Usually just "keep-alive" or "close", which name nothing beyond the hop-by-hop fields.
  const named = connection === undefined || SIMPLE_CONNECTION.has(connection) ? undefined : headerList(connection).map((n) => n.toLowerCase());
  const out: Record<string, string | string[] | undefined> = {};
  for (const name in headers) {
    if (name.charCodeAt(0) === 58 /* ":" */ || HOP_BY_HOP.has(name) || named?.includes(name) || drop?.(name)) continue;
    out[name] = headers[name];
  }
  if (keepUpgrade && headers.upgrade !== undefined) {
    out.connection = "upgrade";
    out.upgrade = headers.upgrade;
  }
  return out;
}
