// What a site's `headers:` may hold: fields padlock puts on every response of the site, replacing
// a handler's or an upstream's field of the same name (src/server/site-headers.ts). Checked by
// the config check and by `padlock import nginx` for each add_header it translates.

/** RFC 9110 token characters: what a header field name may hold. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * Fields that describe one response (its bytes, its encoding, what it depends on, where it
 * points) or one connection: the same value on every response would be wrong for most of them.
 */
const PER_RESPONSE = new Set([
  "content-length",
  "content-encoding",
  "content-type",
  "content-range",
  "etag",
  "last-modified",
  "location",
  "vary",
  "date",
  "transfer-encoding",
  "connection",
  "keep-alive",
  "proxy-connection",
  "upgrade",
  "te",
  "trailer",
  "http2-settings",
]);

/** Why `name: value` cannot be one of a site's headers, or undefined when it can. */
export function headerFieldProblem(name: string, value: string): string | undefined {
  if (!TOKEN.test(name)) return `"${name}" is not a header field name; names are letters, digits and ${"!#$%&'*+-.^_`|~"} without spaces or colons`;
  if (name === "__proto__") return `"${name}" cannot be a header field name here`;
  if (PER_RESPONSE.has(name.toLowerCase())) return `${name} is set by padlock for each response (it describes that response or its connection), not in a site's headers:`;
  // What Node refuses to send (a line break would end the field early).
  if (/[^\t\x20-\x7e\x80-\xff]/.test(value)) return `the value of ${name} holds a character a header cannot carry (a line break, another control character, or one beyond Latin-1); write it on one line in plain text`;
  if (value !== value.trim()) return `the value of ${name} starts or ends with white space, which HTTP/2 does not allow; remove it`;
  return undefined;
}
