// A response held in memory: its bytes, gzip and brotli variants compressed once, and the
// header objects for each variant built once, so answering a request is a lookup and a write.
import { createHash } from "node:crypto";
import { promisify } from "node:util";
import zlib from "node:zlib";
import type { Exchange } from "./exchange.js";

const gzip = promisify(zlib.gzip);
const brotli = promisify(zlib.brotliCompress);

/** Bodies smaller than this are not worth compressing. */
const MIN_COMPRESS_BYTES = 256;

export type Encoding = "br" | "gzip" | "identity";

interface Variant {
  body: Buffer;
  /** Headers for 200 (and HEAD). */
  headers: Record<string, string | number>;
  /** Headers for 304: the validators only. */
  notModifiedHeaders: Record<string, string>;
}

export interface CachedEntity {
  readonly status: number;
  /** Quoted strong ETag of the identity bytes; encoded variants append -br / -gz. */
  readonly etag: string;
  readonly lastModified: Date;
  readonly contentType: string;
  readonly bytes: Buffer;
  readonly variants: Partial<Record<Encoding, Variant>> & { identity: Variant };
}

export interface EntityOptions {
  contentType: string;
  status?: number;
  /** Keep this date when the bytes are unchanged (a re-render after an edit elsewhere). */
  lastModified?: Date;
  cacheControl?: string;
  /** Extra headers sent with every variant. */
  headers?: Record<string, string>;
  compress?: boolean;
}

export function etagOf(bytes: Buffer): string {
  return `"${createHash("sha256").update(bytes).digest("base64url").slice(0, 22)}"`;
}

/** Builds an entity, compressing in libuv's thread pool so many pages compress in parallel. */
export async function createEntity(bytes: Buffer, options: EntityOptions): Promise<CachedEntity> {
  const etag = etagOf(bytes);
  // HTTP dates have second precision; keep the stored date at that precision so comparisons agree.
  const lastModified = new Date(Math.floor((options.lastModified ?? new Date()).getTime() / 1000) * 1000);
  const status = options.status ?? 200;
  const compressible = options.compress !== false && bytes.length >= MIN_COMPRESS_BYTES;
  const [br, gz] = compressible
    ? await Promise.all([
        brotli(bytes, {
          params: {
            [zlib.constants.BROTLI_PARAM_QUALITY]: 9,
            [zlib.constants.BROTLI_PARAM_SIZE_HINT]: bytes.length,
            [zlib.constants.BROTLI_PARAM_MODE]: zlib.constants.BROTLI_MODE_TEXT,
          },
        }),
        gzip(bytes, { level: 9 }),
      ])
    : [undefined, undefined];

  const common = {
    "content-type": options.contentType,
    "last-modified": lastModified.toUTCString(),
    "cache-control": options.cacheControl ?? "no-cache",
    ...(compressible ? { vary: "Accept-Encoding" } : {}),
    ...options.headers,
  };
  const variant = (body: Buffer, tag: string, encoding?: string): Variant => ({
    body,
    headers: { ...common, etag: tag, "content-length": body.length, ...(encoding ? { "content-encoding": encoding } : {}) },
    notModifiedHeaders: {
      etag: tag,
      "last-modified": common["last-modified"],
      "cache-control": common["cache-control"],
      ...(compressible ? { vary: "Accept-Encoding" } : {}),
    },
  });
  const variants: CachedEntity["variants"] = { identity: variant(bytes, etag) };
  // A variant is kept only when it is actually smaller.
  if (br && br.length < bytes.length) variants.br = variant(br, etag.slice(0, -1) + '-br"', "br");
  if (gz && gz.length < bytes.length) variants.gzip = variant(gz, etag.slice(0, -1) + '-gz"', "gzip");
  return { status, etag, lastModified, contentType: options.contentType, bytes, variants };
}

/** Answers a GET or HEAD from the entity: 304 when the client's copy is current, else the best encoding. */
export function sendEntity(ex: Exchange, entity: CachedEntity): void {
  const { req, res } = ex;
  const variant = entity.variants[chooseEncoding(req.headers["accept-encoding"], entity)] ?? entity.variants.identity;
  if (entity.status === 200 && isNotModified(req.headers, entity)) {
    res.writeHead(304, variant.notModifiedHeaders);
    res.end();
    return;
  }
  res.writeHead(entity.status, variant.headers);
  if (req.method === "HEAD") res.end();
  else res.end(variant.body);
}

function isNotModified(headers: Exchange["req"]["headers"], entity: CachedEntity): boolean {
  const inm = headers["if-none-match"];
  if (inm !== undefined) return ifNoneMatchMatches(inm, entity.etag);
  const ims = headers["if-modified-since"];
  if (ims !== undefined) {
    const since = Date.parse(ims);
    return !Number.isNaN(since) && entity.lastModified.getTime() <= since;
  }
  return false;
}

/** Weak comparison (RFC 9110 §13.1.2): any variant's tag, or W/ of it, or *. */
export function ifNoneMatchMatches(header: string, etag: string): boolean {
  if (header.trim() === "*") return true;
  const opaque = etag.slice(1, -1);
  for (const raw of header.split(",")) {
    let tag = raw.trim();
    if (tag.startsWith("W/")) tag = tag.slice(2);
    if (!tag.startsWith('"')) continue;
    const inner = tag.slice(1, -1);
    if (inner === opaque || inner === `${opaque}-br` || inner === `${opaque}-gz`) return true;
  }
  return false;
}

// Accept-Encoding values repeat (each browser sends one fixed string), so parse each once.
const encodingPreferences = new Map<string, { br: number; gzip: number; identity: number }>();

export function chooseEncoding(header: string | undefined, entity: CachedEntity): Encoding {
  if (!header || (!entity.variants.br && !entity.variants.gzip)) return "identity";
  let prefs = encodingPreferences.get(header);
  if (!prefs) {
    prefs = parseAcceptEncoding(header);
    if (encodingPreferences.size < 256) encodingPreferences.set(header, prefs);
  }
  // Prefer br over gzip at equal q; identity only when it beats both.
  if (entity.variants.br && prefs.br > 0 && prefs.br >= prefs.gzip && prefs.br >= prefs.identity) return "br";
  if (entity.variants.gzip && prefs.gzip > 0 && prefs.gzip >= prefs.identity) return "gzip";
  return "identity";
}

export function parseAcceptEncoding(header: string): { br: number; gzip: number; identity: number } {
  const q: Record<string, number> = {};
  for (const part of header.split(",")) {
    const [name, ...params] = part.trim().toLowerCase().split(";");
    if (!name) continue;
    let value = 1;
    for (const p of params) {
      const m = /^\s*q\s*=\s*([0-9.]+)\s*$/.exec(p);
      if (m) value = Math.min(1, Number(m[1]) || 0);
    }
    q[name] = value;
  }
  const star = q["*"];
  const pick = (name: string, fallback: number) => q[name] ?? star ?? fallback;
  return { br: pick("br", 0), gzip: pick("gzip", pick("x-gzip", 0)), identity: q.identity ?? (star === 0 ? 0 : 0.001) };
}
