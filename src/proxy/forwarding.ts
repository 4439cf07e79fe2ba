// Who the client is, and the forwarding headers that tell an upstream about it.
//
// padlock believes incoming X-Forwarded-* / Forwarded headers only when the peer that sent them
// is a trusted proxy (config `trusted_proxies`); otherwise they are dropped and rebuilt from the
// connection. Upstreams always receive one chain that ends with the client padlock determined,
// so an app trusts exactly one hop (padlock) whether or not a load balancer sits in front.
import { BlockList, isIP } from "node:net";
import type { IncomingHttpHeaders } from "node:http";
import { parseCidr } from "../config/addresses.js";

export interface Client {
  /** The client's IP address as padlock determined it (the peer, or what trusted proxies reported). */
  ip: string;
  /** The address chain ending with `ip`: earlier hops reported by trusted proxies, then the client. */
  chain: string[];
  /** "https" or "http": the scheme the client used (a trusted proxy may report it). */
  proto: string;
  /** The Host the client asked for, with port if it sent one (a trusted proxy may report it). */
  host: string;
  /** The directly connected peer. */
  peer: string;
  /** The peer is one of `trusted_proxies`: its forwarding and client-IP headers are believed and passed on. */
  peerTrusted: boolean;
}

/** The set of trusted proxy addresses, from CIDRs such as 10.0.0.0/8, 2001:db8::/32 or 127.0.0.1. */
export class TrustedProxies {
  private readonly list = new BlockList();
  readonly empty: boolean;

  constructor(cidrs: string[] = []) {
    for (const cidr of cidrs) {
      const parsed = parseCidr(cidr);
      if (!parsed) throw new Error(`"${cidr}" is not an IP address or CIDR (such as 10.0.0.0/8 or 2001:db8::/32)`);
      this.list.addSubnet(parsed.address, parsed.prefix, parsed.family);
    }
    this.empty = cidrs.length === 0;
  }

  has(address: string): boolean {
    if (this.empty) return false;
    const family = isIP(address);
    return family !== 0 && this.list.check(address, family === 6 ? "ipv6" : "ipv4");
  }
}

/** "::ffff:10.0.0.1" (an IPv4 client on a dual-stack socket) → "10.0.0.1". */
export function normalizeAddress(address: string | undefined): string {
  if (!address) return "";
  return address.startsWith("::ffff:") && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}

/** Works out the client of a request from the connection and, if the peer is trusted, its forwarding headers. */
export function resolveClient(
  headers: IncomingHttpHeaders,
  peerAddress: string | undefined,
  secure: boolean,
  host: string,
  trusted: TrustedProxies,
): Client {
  const peer = normalizeAddress(peerAddress);
  const peerTrusted = trusted.has(peer);
  const own: Client = { ip: peer, chain: [peer], proto: secure ? "https" : "http", host, peer, peerTrusted };
  if (!peerTrusted) return own;

  const forwarded = parseForwarded(headers.forwarded);
  const reported = listOf(headers["x-forwarded-for"]).map(stripPort);
  const hops = reported.length > 0 ? reported : forwarded.map((e) => e.for ?? "").filter((a) => a !== "");
  if (hops.length === 0) return own;
  // Walk back from the nearest hop; the first address that is not one of ours is the client.
  // Anything further left was written by the client or its proxies and is kept only as history.
  let end = hops.length;
  while (end > 1 && trusted.has(hops[end - 1]!)) end--;
  const chain = hops.slice(0, end);
  const last = forwarded.at(-1);
  return {
    ip: chain[end - 1]!,
    chain,
    proto: firstOf(headers["x-forwarded-proto"])?.toLowerCase() ?? last?.proto?.toLowerCase() ?? own.proto,
    host: firstOf(headers["x-forwarded-host"]) ?? last?.host ?? host,
    peer,
    peerTrusted,
  };
}

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

function listOf(value: string | string[] | undefined): string[] {
  if (value === undefined) return [];
  return (Array.isArray(value) ? value.join(",") : value)
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
}

function firstOf(value: string | string[] | undefined): string | undefined {
  return listOf(value)[0];
}

/** "203.0.113.7:5555" → "203.0.113.7", "[2001:db8::1]:80" → "2001:db8::1"; bare addresses unchanged. */
function stripPort(address: string): string {
  if (address.startsWith("[")) {
    const end = address.indexOf("]");
    return end > 0 ? address.slice(1, end) : address;
  }
  const colon = address.indexOf(":");
  return colon > 0 && address.indexOf(":", colon + 1) < 0 ? address.slice(0, colon) : address;
}

interface ForwardedElement {
  for?: string;
  proto?: string;
  host?: string;
}

/** RFC 7239 Forwarded, as far as padlock needs it: for, proto, host of each element. */
export function parseForwarded(value: string | string[] | undefined): ForwardedElement[] {
  if (value === undefined) return [];
  const text = Array.isArray(value) ? value.join(",") : value;
  const elements: ForwardedElement[] = [];
  // Splits on commas and semicolons outside quoted strings.
  const pair = /\s*([A-Za-z]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;,\s]*)\s*([;,]?)/g;
  let current: ForwardedElement = {};
  let match: RegExpExecArray | null;
  while ((match = pair.exec(text)) !== null && match[0] !== "") {
    const key = match[1]!.toLowerCase();
    const raw = match[2]!;
    const val = raw.startsWith('"') ? raw.slice(1, -1).replace(/\\(.)/g, "$1") : raw;
    if (key === "for") current.for = stripPort(val);
    else if (key === "proto" || key === "host") current[key] = val;
    if (match[3] === ",") {
      elements.push(current);
      current = {};
    }
  }
  if (Object.keys(current).length > 0) elements.push(current);
  return elements;
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
  const named = connection === undefined || SIMPLE_CONNECTION.has(connection) ? undefined : listOf(connection).map((n) => n.toLowerCase());
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
