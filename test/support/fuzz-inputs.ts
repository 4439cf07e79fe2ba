// Hostile inputs for the fuzz suite, as fast-check arbitraries: HTTP/1 requests built from
// malformed parts, raw HTTP/2 frames (with header lists HPACK-encoded by hand, so nothing
// validates them on the way), TLS ClientHellos with odd names and protocols, and mutated bytes.
// Every request names the input it came from (`{id}` in its path is replaced when it is sent),
// so whatever reaches the upstream can be traced back to it.
import fc from "fast-check";

export const FUZZ_HOST = "fuzz.test";

export type FuzzInput =
  | { kind: "http1"; tls: boolean; bytes: string }
  | { kind: "h2-frames"; frames: H2Frame[]; preface: string }
  | { kind: "client-hello"; servername?: string; alpn?: string; version?: "-tls1_2" | "-tls1_3" }
  | { kind: "tls-bytes"; mutate: { truncateAt?: number; flips: [number, number][]; prefix?: number[] } }
  | { kind: "tcp-garbage"; tls: boolean; bytes: number[] };

/** A short description for a failure report. */
export function describeInput(input: FuzzInput): string {
  return JSON.stringify(input, (_k, v: unknown) => (Buffer.isBuffer(v) ? v.toString("hex") : typeof v === "string" && v.length > 300 ? `${v.slice(0, 300)}…(${v.length})` : v));
}

const segment = fc.constantFrom("app", "sub", "x", "y", "z", "..", ".", "%2e%2e", "%2E", ".%2e", "", "%00", "%2f", "%5c", "\\", "~", "%7e", "%zz", "%", "é", "a;b", "a?b=c", "%0d%0a", "*", "index.html");
const longSegment = fc.integer({ min: 100, max: 9000 }).map((n) => "a".repeat(n));

/** Origin-form paths, mostly under /app/ (the proxy route), tagged with the input's id. */
const originPath = fc
  .tuple(fc.boolean(), fc.array(fc.oneof({ weight: 12, arbitrary: segment }, { weight: 1, arbitrary: longSegment }), { maxLength: 6 }), fc.option(fc.constantFrom("?q=1", "?%00", "?a=b&c", "?" + "q".repeat(50)), { nil: undefined }))
  .map(([app, segments, query]) => `${app ? "/app/fz-{id}/" : "/fz-{id}/"}${segments.join("/")}${query ?? ""}`);

const target = fc.oneof(
  { weight: 6, arbitrary: originPath },
  { weight: 2, arbitrary: fc.constant("*") },
  { weight: 1, arbitrary: originPath.map((p) => `http://${FUZZ_HOST}${p}`) },
  { weight: 1, arbitrary: originPath.map((p) => `https://other.test:8443${p}`) },
  { weight: 1, arbitrary: fc.constantFrom(`${FUZZ_HOST}:443`, "other.test:80", "[::1]:80") },
  { weight: 1, arbitrary: fc.constantFrom("", "app/fz-{id}", "//fz-{id}", "\\fz-{id}", "/fz-{id}\u0000", "/fz-{id}\u0001x", "/fz-{id} x") },
);

const method = fc.constantFrom("GET", "GET", "GET", "GET", "GET", "POST", "POST", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "TRACE", "CONNECT", "PATCH", "PRI", "get", "G\u0000T", "M-SEARCH", "X".repeat(300));
const version = fc.constantFrom("HTTP/1.1", "HTTP/1.0", "HTTP/0.9", "HTTP/1.2", "HTTP/2.0", "HTTP/2", "HTTP/3.0", "HTTP/9.9", "http/1.1", "HTTP/1.1 ", "", "FOO/1.1", "HTTP/1.10", "HTTP/01.1");

const headerLine = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom("Accept: */*", "User-Agent: fuzz", "Cookie: a=b", "Content-Type: text/plain", "X-Request: 1") },
  { weight: 4, arbitrary: fc.constantFrom(
    `Host: ${FUZZ_HOST}`,
    "Host: other.test",
    "Host: ",
    `Host: ${FUZZ_HOST}:99999`,
    `Host: [::1]`,
    `Host: ${FUZZ_HOST}\u0000.evil`,
    "Content-Length: 0",
    "Content-Length: 5",
    "Content-Length: -1",
    "Content-Length: 1e3",
    "Content-Length: 5, 6",
    "Content-Length: 99999999999999999999",
    "Transfer-Encoding: chunked",
    "Transfer-Encoding: chunked, identity",
    "Transfer-Encoding:  chunked",
    "Transfer-Encoding: xchunked",
    "Transfer-Encoding\t: chunked",
    "X-Folded: a\r\n b",
    "X_Forwarded_For: 6.6.6.6",
    "X-Forwarded-For: 6.6.6.6",
    "True-Client-IP: 6.6.6.6",
    "CF-Connecting-IP: 6.6.6.6",
    "X_Real_IP: 6.6.6.6",
    "Forwarded: for=6.6.6.6;proto=https",
    "X-Forwarded-Proto: https",
    "Upgrade: h2c",
    "Upgrade: websocket",
    "Connection: Upgrade, HTTP2-Settings",
    "Connection: close",
    "Connection: keep-alive, Host",
    "Connection: X-Forwarded-For",
    "Expect: 100-continue",
    "Expect: nonsense",
    "TE: trailers",
    "Range: bytes=0-1,2-3",
    "If-None-Match: *",
    "no colon here",
    "Host : padded",
    ": empty name",
    "X-Nul: a\u0000b",
    "X-Utf8: é",
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
  ) },
  { weight: 1, arbitrary: fc.integer({ min: 1000, max: 40_000 }).map((n) => `X-Big: ${"b".repeat(n)}`) },
  { weight: 1, arbitrary: fc.integer({ min: 50, max: 150 }).map((n) => Array.from({ length: n }, (_, i) => `X-Many-${i}: 1`).join("\r\n")) },
);

const body = fc.oneof(
  { weight: 4, arbitrary: fc.constant("") },
  { weight: 1, arbitrary: fc.constantFrom("hello", "5\r\nhello\r\n0\r\n\r\n", "ffffffffffffffff\r\nx\r\n", "0\r\n\r\n", "zz\r\n") },
  // A second request hidden in the body: reaching the upstream on its own would be smuggling.
  { weight: 1, arbitrary: fc.constant(`0\r\n\r\nGET /app/fz-{id}-smuggled HTTP/1.1\r\nHost: ${FUZZ_HOST}\r\n\r\n`) },
  { weight: 1, arbitrary: fc.constant(`GET /app/fz-{id}-smuggled HTTP/1.1\r\nHost: ${FUZZ_HOST}\r\nContent-Length: 0\r\n\r\n`) },
);

function http1Request(parts: { tls: boolean; method: string; target: string; version: string; host: string; headers: string[]; body: string }): FuzzInput {
  const { tls, method, target, version, host, headers, body } = parts;
  const hostLines = host === "none" ? [] : host === "twice" ? [`Host: ${FUZZ_HOST}`, "Host: other.test"] : [`Host: ${FUZZ_HOST}`];
  const line = version === "" ? `${method} ${target}` : `${method} ${target} ${version}`;
  return { kind: "http1", tls, bytes: [line, ...hostLines, ...headers, "", body].join("\r\n") };
}

/** Every part drawn from its hostile choices. */
const anyHttp1 = fc
  .record({ tls: fc.boolean(), method, target, version, host: fc.constantFrom("first", "first", "first", "none", "twice"), headers: fc.array(headerLine, { maxLength: 4 }), body })
  .map(http1Request);

/** A request padlock should accept and forward, with one hostile part: its path, a header or its body. */
const nearlyValidHttp1 = fc
  .record({ tls: fc.boolean(), method: fc.constantFrom("GET", "POST", "HEAD", "DELETE"), target: originPath.map((p) => p.replace(/^\/fz-/, "/app/fz-")), version: fc.constantFrom("HTTP/1.1", "HTTP/1.0"), host: fc.constant("first"), headers: fc.array(headerLine, { maxLength: 1 }), body })
  .map(http1Request);

/** A request padlock forwards, with a hostile one pipelined behind it on the same connection. */
const pipelinedHttp1 = fc.tuple(nearlyValidHttp1, anyHttp1).map(([first, second]): FuzzInput => {
  const a = first as Extract<FuzzInput, { kind: "http1" }>;
  const b = second as Extract<FuzzInput, { kind: "http1" }>;
  return { kind: "http1", tls: a.tls, bytes: a.bytes + b.bytes.replaceAll("{id}", "{id}-pipelined") };
});

const http1 = fc.oneof({ weight: 2, arbitrary: anyHttp1 }, { weight: 2, arbitrary: nearlyValidHttp1 }, { weight: 1, arbitrary: pipelinedHttp1 });

// --- HTTP/2 frames ---------------------------------------------------------------------------

/** HPACK integer with an n-bit prefix (RFC 7541 §5.1). */
function hpackInteger(value: number, prefixBits: number, firstByte = 0): number[] {
  const max = (1 << prefixBits) - 1;
  if (value < max) return [firstByte | value];
  const out = [firstByte | max];
  let rest = value - max;
  while (rest >= 128) {
    out.push((rest % 128) + 128);
    rest = Math.floor(rest / 128);
  }
  out.push(rest);
  return out;
}

/** A header block of "literal without indexing, new name" fields: any name and value go through. */
function hpackLiterals(fields: [string, string][]): Buffer {
  const bytes: number[] = [];
  for (const [name, value] of fields) {
    const n = Buffer.from(name, "latin1");
    const v = Buffer.from(value, "latin1");
    bytes.push(0x00, ...hpackInteger(n.length, 7), ...n, ...hpackInteger(v.length, 7), ...v);
  }
  return Buffer.from(bytes);
}

function frame(type: number, flags: number, streamId: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(9);
  head.writeUIntBE(payload.length, 0, 3);
  head[3] = type & 0xff;
  head[4] = flags & 0xff;
  head.writeUInt32BE(streamId >>> 0, 5);
  return Buffer.concat([head, payload]);
}

/** A frame to send; a header list is HPACK-encoded when sent, once `{id}` in it is filled in. */
export interface H2Frame {
  type: number;
  flags: number;
  id: number;
  payload?: Buffer;
  fields?: [string, string][];
}

/** The bytes of an h2-frames input for input number `id`. */
export function encodeH2(input: { frames: H2Frame[]; preface: string }, id: number): Buffer {
  const fill = (text: string) => text.replaceAll("{id}", String(id));
  const frames = input.frames.map((f) => frame(f.type, f.flags, f.id, f.fields ? hpackLiterals(f.fields.map(([n, v]) => [fill(n), fill(v)])) : (f.payload ?? Buffer.alloc(0))));
  return Buffer.concat([Buffer.from(input.preface, "latin1"), ...frames]);
}

const H2 = { DATA: 0, HEADERS: 1, PRIORITY: 2, RST_STREAM: 3, SETTINGS: 4, PING: 6, GOAWAY: 7, WINDOW_UPDATE: 8, CONTINUATION: 9 } as const;
const END_STREAM = 0x1;
const END_HEADERS = 0x4;

const pseudoPath = fc.oneof(originPath, fc.constantFrom("*", "", "fz-{id}", "//fz-{id}", "/app/fz-{id}/../../x"));
const extraField = fc.constantFrom<[string, string]>(
  ["connection", "keep-alive"],
  ["te", "gzip"],
  ["te", "trailers"],
  ["transfer-encoding", "chunked"],
  ["upgrade", "h2c"],
  ["host", "other.test"],
  ["x_forwarded_for", "6.6.6.6"],
  ["true-client-ip", "6.6.6.6"],
  ["X-Upper", "1"],
  ["content-length", "10"],
  [":unknown", "x"],
  [":path", "/again"],
  ["", "empty"],
  ["x-nul", "a\u0000b"],
  ["x-crlf", "a\r\nb: c"],
);

const headerList = fc
  .record({
    method: fc.constantFrom("GET", "POST", "HEAD", "CONNECT", "get", ""),
    path: pseudoPath,
    scheme: fc.constantFrom("https", "http", "", "ftp"),
    authority: fc.constantFrom(FUZZ_HOST, "other.test", "", `${FUZZ_HOST}:443`),
    drop: fc.subarray([":method", ":path", ":scheme", ":authority"], { maxLength: 1 }),
    extra: fc.array(extraField, { maxLength: 3 }),
    extraFirst: fc.boolean(),
  })
  .map(({ method, path, scheme, authority, drop, extra, extraFirst }) => {
    const pseudo = ([[":method", method], [":path", path], [":scheme", scheme], [":authority", authority]] as [string, string][]).filter(([n]) => !drop.includes(n));
    return extraFirst ? [...extra, ...pseudo] : [...pseudo, ...extra];
  });

const h2Frame: fc.Arbitrary<H2Frame> = fc.oneof(
  { weight: 6, arbitrary: fc.tuple(headerList, fc.constantFrom(1, 3, 2, 0, 0x7fffffff), fc.constantFrom(END_HEADERS | END_STREAM, END_HEADERS, END_STREAM, 0)).map(([fields, id, flags]): H2Frame => ({ type: H2.HEADERS, flags, id, fields })) },
  { weight: 2, arbitrary: fc.tuple(fc.constantFrom(1, 3, 0), fc.uint8Array({ maxLength: 64 }), fc.constantFrom(END_STREAM, 0, 0x8)).map(([id, data, flags]) => ({ type: H2.DATA, flags, id, payload: Buffer.from(data) })) },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom(0, 1), fc.uint8Array({ minLength: 0, maxLength: 12 })).map(([id, data]) => ({ type: H2.SETTINGS, flags: 0, id, payload: Buffer.from(data) })) },
  { weight: 1, arbitrary: fc.constantFrom([2, 0xffffffff], [4, 0x80000000], [5, 1], [1, 0], [3, 0]).map(([key, value]) => ({ type: H2.SETTINGS, flags: 0, id: 0, payload: Buffer.from([0, key!, value! >>> 24, (value! >>> 16) & 0xff, (value! >>> 8) & 0xff, value! & 0xff]) })) },
  { weight: 1, arbitrary: fc.constantFrom(0, 1, 3).map((id) => ({ type: H2.RST_STREAM, flags: 0, id, payload: Buffer.from([0, 0, 0, 8]) })) },
  { weight: 1, arbitrary: fc.constantFrom(0, 1).map((id) => ({ type: H2.WINDOW_UPDATE, flags: 0, id, payload: Buffer.from([0, 0, 0, 0]) })) },
  { weight: 1, arbitrary: fc.constant({ type: H2.PRIORITY, flags: 0, id: 1, payload: Buffer.from([0, 0, 0, 1, 16]) }) },
  { weight: 1, arbitrary: fc.constant({ type: H2.PING, flags: 0, id: 0, payload: Buffer.alloc(7) }) },
  { weight: 1, arbitrary: headerList.map((fields): H2Frame => ({ type: H2.CONTINUATION, flags: END_HEADERS, id: 1, fields })) },
  { weight: 1, arbitrary: fc.constant({ type: H2.GOAWAY, flags: 0, id: 0, payload: Buffer.alloc(8) }) },
  { weight: 2, arbitrary: fc.record({ type: fc.integer({ min: 0, max: 255 }), flags: fc.integer({ min: 0, max: 255 }), id: fc.integer({ min: 0, max: 9 }), payload: fc.uint8Array({ maxLength: 40 }).map((a) => Buffer.from(a)) }) },
);

const h2 = fc
  .record({
    preface: fc.constantFrom("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "PRI * HTTP/2.0\r\n\r\n", "GET / HTTP/1.1\r\n\r\n"),
    settingsFirst: fc.boolean(),
    frames: fc.array(h2Frame, { minLength: 1, maxLength: 6 }),
  })
  .map(({ preface, settingsFirst, frames }): FuzzInput => ({
    kind: "h2-frames",
    preface,
    frames: [...(settingsFirst ? [{ type: H2.SETTINGS, flags: 0, id: 0 }] : []), ...frames],
  }));

// --- TLS -------------------------------------------------------------------------------------

const clientHello = fc.record({
  servername: fc.constantFrom<string | undefined>(undefined, FUZZ_HOST, "FUZZ.TEST", "unknown.test", "127.0.0.1", "fuzz.test.", "a".repeat(250), "xn--e1afmkfd.test", "*.fuzz.test"),
  alpn: fc.constantFrom<string | undefined>(undefined, "acme-tls/1", "h2", "http/1.1", "h2,http/1.1", "acme-tls/1,h2", "x".repeat(200), "h2c"),
  version: fc.constantFrom<"-tls1_2" | "-tls1_3" | undefined>(undefined, "-tls1_2", "-tls1_3"),
}).map((c): FuzzInput => ({ kind: "client-hello", ...c }));

const tlsBytes = fc
  .record({
    truncateAt: fc.option(fc.integer({ min: 0, max: 600 }), { nil: undefined }),
    flips: fc.array(fc.tuple(fc.integer({ min: 0, max: 600 }), fc.integer({ min: 1, max: 255 })), { maxLength: 4 }),
    prefix: fc.option(fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 8 }), { nil: undefined }),
  })
  .map((mutate): FuzzInput => ({ kind: "tls-bytes", mutate }));

const garbage = fc.record({ tls: fc.boolean(), bytes: fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: 200 }) }).map((g): FuzzInput => ({ kind: "tcp-garbage", ...g }));

export const fuzzInput: fc.Arbitrary<FuzzInput> = fc.oneof(
  { weight: 10, arbitrary: http1 },
  { weight: 4, arbitrary: h2 },
  { weight: 2, arbitrary: clientHello },
  { weight: 2, arbitrary: tlsBytes },
  { weight: 1, arbitrary: garbage },
);

/** Applies a tls-bytes mutation to a real ClientHello. */
export function mutateBytes(hello: Buffer, mutate: { truncateAt?: number; flips: [number, number][]; prefix?: number[] }): Buffer {
  const bytes = Buffer.from(hello);
  for (const [at, xor] of mutate.flips) if (at < bytes.length) bytes[at]! ^= xor;
  const cut = mutate.truncateAt === undefined ? bytes : bytes.subarray(0, mutate.truncateAt);
  return mutate.prefix ? Buffer.concat([Buffer.from(mutate.prefix), cut]) : cut;
}
