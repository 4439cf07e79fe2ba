// The request target, read once before routing: its path normalised the way RFC 3986 says two
// paths are the same (percent-encoded unreserved characters decoded, dot segments removed) with
// repeated slashes merged, so that routing, every handler and an upstream all see one path.
// `/app/../static/x` is `/static/x` for everyone, and `//sub` can never turn into a
// protocol-relative `Location`.

export interface RequestTarget {
  /** The normalised path, still percent-encoded except for unreserved characters; starts with "/". */
  path: string;
  /** The query including "?", or "". */
  search: string;
  /** The host:port of an absolute-form target (`GET http://host/path`), which RFC 9112 puts before Host. */
  authority?: string;
}

export interface RefusedTarget {
  status: 400;
  reason: string;
}

/** Reads an HTTP/1 request-target or an HTTP/2 :path. */
export function parseTarget(raw: string): RequestTarget | RefusedTarget {
  let rest = raw;
  let authority: string | undefined;
  if (rest.charCodeAt(0) !== SLASH) {
    const absolute = /^https?:\/\/([^/?#]*)/i.exec(rest);
    if (!absolute) return refused("the request target must be a path (asterisk-form and authority-form are not served here)");
    authority = absolute[1]!;
    rest = rest.slice(absolute[0].length);
    if (rest.charCodeAt(0) !== SLASH) rest = "/" + rest;
  }
  const q = rest.indexOf("?");
  const rawPath = q < 0 ? rest : rest.slice(0, q);
  const path = normalizePath(rawPath);
  if (path === undefined) return refused("the path climbs above the root, or holds an encoded NUL or a malformed percent-escape");
  return { path, search: q < 0 ? "" : rest.slice(q), authority };
}

export function isRefused(target: RequestTarget | RefusedTarget): target is RefusedTarget {
  return "status" in target;
}

/**
 * The path with percent-encoded unreserved characters decoded, dot segments removed (RFC 3986
 * §5.2.4) and empty segments merged; undefined when a ".." would climb above the root or the path
 * holds an encoded NUL or a malformed escape. Paths that need none of it (nearly all) are returned as they are.
 */
export function normalizePath(path: string): string | undefined {
  if (path.indexOf("%") < 0 && path.indexOf("/.") < 0 && path.indexOf("//") < 0) return path;
  const decoded = path.indexOf("%") < 0 ? path : decodeUnreserved(path);
  if (decoded === undefined) return undefined;
  const segments = decoded.split("/");
  const out: string[] = [];
  let endsWithSlash = false;
  // segments[0] is the empty string before the leading slash.
  for (let i = 1; i < segments.length; i++) {
    const segment = segments[i]!;
    const last = i === segments.length - 1;
    if (segment === "" || segment === ".") {
      endsWithSlash = last;
    } else if (segment === "..") {
      if (out.length === 0) return undefined;
      out.pop();
      endsWithSlash = last;
    } else {
      out.push(segment);
      endsWithSlash = false;
    }
  }
  return "/" + out.join("/") + (endsWithSlash && out.length > 0 ? "/" : "");
}

/**
 * %41 → A, %2e → ., %7E → ~; reserved and other characters stay encoded. Undefined for %00 and
 * for a "%" without two hex digits after it (nginx answers those with 400 too).
 */
function decodeUnreserved(path: string): string | undefined {
  let refused = false;
  const decoded = path.replace(/%([0-9A-Fa-f]{2})?/g, (escape, hex: string | undefined) => {
    const code = hex === undefined ? 0 : parseInt(hex, 16);
    if (code === 0) refused = true;
    return isUnreserved(code) ? String.fromCharCode(code) : escape;
  });
  return refused ? undefined : decoded;
}

/** RFC 3986 unreserved: ALPHA / DIGIT / "-" / "." / "_" / "~". */
function isUnreserved(code: number): boolean {
  return (
    (code >= 0x41 && code <= 0x5a) || (code >= 0x61 && code <= 0x7a) || (code >= 0x30 && code <= 0x39) || code === 0x2d || code === 0x2e || code === 0x5f || code === 0x7e
  );
}

function refused(reason: string): RefusedTarget {
  return { status: 400, reason };
}

const SLASH = 0x2f;
