// Who the client of a request is: the connection's peer, or, when that peer is a trusted proxy
// (config `trusted_proxies`), the client its X-Forwarded-* / Forwarded headers report. Anyone
// else's forwarding headers are ignored. Access log, redirects and the proxy's forwarding headers
// all read the one answer worked out here.
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
  const reported = headerList(headers["x-forwarded-for"]).map(stripPort);
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

/** A header that may be a comma-separated list, or repeated: its entries. */
export function headerList(value: string | string[] | undefined): string[] {
  if (value === undefined) return [];
  return (Array.isArray(value) ? value.join(",") : value)
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
}

function firstOf(value: string | string[] | undefined): string | undefined {
  return headerList(value)[0];
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
