// Why a request is refused before any site sees it: the same checks for plain requests and
// upgrades, on both listeners. Each answer is what nginx gives for the same request.
import { isHttp2, type Request } from "./exchange.js";
import { hostOf } from "./host.js";
import { isRefused, type RefusedTarget, type RequestTarget } from "./request-target.js";

/** Why a request is refused before any site sees it, or undefined. The same checks for plain requests and upgrades. */
export function requestProblem(req: Request, target: RequestTarget | RefusedTarget, maxFields: number): { status: 400 | 431 | 505; reason: string } | undefined {
  if (isRefused(target)) return { status: 400, reason: `Bad request: ${target.reason}.` };
  return versionProblem(req) ?? headProblem(req, maxFields) ?? authorityProblem(req);
}

/**
 * An HTTP/2 request whose Host names another host than its :authority gets 400 (RFC 9113 §8.3.1):
 * routing would follow one and the application could read the other. (An HTTP/1 absolute-form
 * target simply wins over Host, as RFC 9112 says, and is what the upstream is told.)
 */
function authorityProblem(req: Request): { status: 400; reason: string } | undefined {
  if (!isHttp2(req) || req.authority === undefined || req.headers.host === undefined || hostOf(req.authority) === hostOf(req.headers.host)) return undefined;
  return { status: 400, reason: "Bad request: :authority and Host name different hosts." };
}

/**
 * An HTTP/1 connection carries HTTP/1.0 and 1.1 only. A request line claiming HTTP/2.0 or
 * HTTP/3.0 gets 505 (as from nginx): HTTP/2 is agreed in the TLS handshake, never by a version
 * string. HTTP/0.9 gets 400.
 */
function versionProblem(req: Request): { status: 400 | 505; reason: string } | undefined {
  if (isHttp2(req) || req.httpVersionMajor === 1) return undefined;
  if (req.httpVersionMajor === 0) return { status: 400, reason: "Bad request: HTTP/0.9 is not served here." };
  return { status: 505, reason: `HTTP version not supported: HTTP/${req.httpVersion} on an HTTP/1 connection (HTTP/2 is agreed in the TLS handshake).` };
}

/**
 * More header fields than the limit (431); more than one Host field (400, as from nginx: two
 * hosts invite a cache or proxy to pick the other one), or none in HTTP/1.1 (400, RFC 9112 §3.2); a Transfer-Encoding whose last coding is
 * not chunked (400: the body's end cannot be found, RFC 9112 §6.3). HTTP/2 pseudo-headers do not count.
 */
function headProblem(req: Request, maxFields: number): { status: 400 | 431; reason: string } | undefined {
  let count = 0;
  let hosts = 0;
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.charCodeAt(0) === 58) continue;
    count++;
    if (name.length === 4 && name.toLowerCase() === "host") hosts++;
    else if (name.length === 17 && name.toLowerCase() === "transfer-encoding" && !/(^|,)\s*chunked\s*$/i.test(raw[i + 1]!)) {
      return { status: 400, reason: "Bad request: the last transfer coding must be chunked." };
    }
  }
  if (count > maxFields) return { status: 431, reason: `Too many request header fields (at most ${maxFields}).` };
  if (hosts > 1) return { status: 400, reason: "Bad request: more than one Host header field." };
  if (hosts === 0 && !isHttp2(req) && req.httpVersionMinor === 1) return { status: 400, reason: "Bad request: HTTP/1.1 requires a Host header field." };
  return undefined;
}
