// A response held in memory: its bytes, gzip and brotli variants compressed once, and the
// header objects for each variant built once, so answering a request is a lookup and a write.
import { createHash } from "node:crypto";
import zlib from "node:zlib";
import type { Exchange } from "./exchange.js";

/** Bodies smaller than this are not worth compressing. */
const MIN_COMPRESS_BYTES = 256;

export type Encoding = "br" | "gzip" | "identity";

interface Variant {
  body: Buffer;
  /** Headers for 200 (and HEAD). */
  headers: Readonly<Record<string, string | number>>;
  /** Headers for 304: the validators only. */
  notModifiedHeaders: Readonly<Record<string, string>>;
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

/**
 * One response in memory. The compressed variants are made by compress(): the renderer calls it
 * for every page right after a render is swapped in (so start-up is not held up by it), and
 * sendEntity calls it first if a client asks for an encoding before that has happened.
 */
export class CachedEntity {
  readonly etag: string;
  readonly lastModified: Date;
  readonly identity: Variant;
  readonly compressible: boolean;
  br?: Variant;
  gzip?: Variant;
  private compressed = false;
  private readonly common: Record<string, string>;

  constructor(
    readonly bytes: Buffer,
    readonly options: EntityOptions,
  ) {
    this.etag = etagOf(bytes);
    // HTTP dates have second precision; store that precision so comparisons agree.
    this.lastModified = new Date(Math.floor((options.lastModified ?? new Date()).getTime() / 1000) * 1000);
    this.compressible = options.compress !== false && bytes.length >= MIN_COMPRESS_BYTES;
    this.common = {
      "content-type": options.contentType,
      "last-modified": this.lastModified.toUTCString(),
      "cache-control": options.cacheControl ?? "no-cache",
      ...(this.compressible ? { vary: "Accept-Encoding" } : {}),
      ...options.headers,
    };
    this.identity = this.variant(bytes, this.etag);
  }

  get status(): number {
    return this.options.status ?? 200;
  }

  get isCompressed(): boolean {
    return this.compressed || !this.compressible;
  }

  /** Makes the br and gzip variants (once); a variant is kept only when it is smaller. */
  compress(): void {
    if (this.compressed || !this.compressible) return;
    this.compressed = true;
    const br = zlib.brotliCompressSync(this.bytes, {
      params: {
        // Quality 5 is within ~2% of 9 at a tenth of the time.
        [zlib.constants.BROTLI_PARAM_QUALITY]: 5,
        [zlib.constants.BROTLI_PARAM_SIZE_HINT]: this.bytes.length,
        [zlib.constants.BROTLI_PARAM_MODE]: zlib.constants.BROTLI_MODE_TEXT,
      },
    });
    const gz = zlib.gzipSync(this.bytes, { level: 9 });
    if (br.length < this.bytes.length) this.br = this.variant(br, this.etag.slice(0, -1) + '-br"', "br");
    if (gz.length < this.bytes.length) this.gzip = this.variant(gz, this.etag.slice(0, -1) + '-gz"', "gzip");
  }

  private variant(body: Buffer, tag: string, encoding?: string): Variant {
    const c = this.common;
    // Frozen: the same objects answer every request (and site-headers.ts merges a site's fields into them once).
    return {
      body,
      headers: Object.freeze({ ...c, etag: tag, "content-length": body.length, ...(encoding ? { "content-encoding": encoding } : {}) }),
      notModifiedHeaders: Object.freeze({
        etag: tag,
        "last-modified": c["last-modified"]!,
        "cache-control": c["cache-control"]!,
        ...(c.vary ? { vary: c.vary } : {}),
      }),
    };
  }
}

export function createEntity(bytes: Buffer, options: EntityOptions): CachedEntity {
  return new CachedEntity(bytes, options);
}

/** Compresses entities a batch at a time, yielding between batches so requests keep flowing. */
export async function compressInBackground(entities: Iterable<CachedEntity>, stopped: () => boolean = () => false): Promise<void> {
  let done = 0;
  for (const entity of entities) {
    if (stopped()) return;
    entity.compress();
    if (++done % 25 === 0) await new Promise((resolve) => setImmediate(resolve));
  }
}

/** Answers a GET or HEAD from the entity: 304 when the client's copy is current, else the best encoding. */
export function sendEntity(ex: Exchange, entity: CachedEntity): void {
  const { req, res } = ex;
  const accept = req.headers["accept-encoding"];
  if (accept !== undefined && !entity.isCompressed) entity.compress();
  const encoding = chooseEncoding(accept, entity);
  const variant = (encoding === "br" ? entity.br : encoding === "gzip" ? entity.gzip : undefined) ?? entity.identity;
  if (entity.status === 200 && isNotModified(req.headers, entity.etag, entity.lastModified)) {
    res.writeHead(304, variant.notModifiedHeaders);
    res.end();
    return;
  }
  res.writeHead(entity.status, variant.headers);
  if (req.method === "HEAD") res.end();
  else {
    ex.bytesSent = variant.body.length;
    res.end(variant.body);
  }
}

/** A conditional GET's answer: If-None-Match when sent, else If-Modified-Since. */
export function isNotModified(headers: Exchange["req"]["headers"], etag: string, lastModified: Date): boolean {
  const inm = headers["if-none-match"];
  if (inm !== undefined) return ifNoneMatchMatches(inm, etag);
  const ims = headers["if-modified-since"];
  if (ims === undefined) return false;
  const since = Date.parse(ims);
  return !Number.isNaN(since) && lastModified.getTime() <= since;
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
  if (!header || (!entity.br && !entity.gzip)) return "identity";
  let prefs = encodingPreferences.get(header);
  if (!prefs) {
    prefs = parseAcceptEncoding(header);
    if (encodingPreferences.size < 256) encodingPreferences.set(header, prefs);
  }
  // Prefer br over gzip at equal q; identity only when it beats both.
  if (entity.br && prefs.br > 0 && prefs.br >= prefs.gzip && prefs.br >= prefs.identity) return "br";
  if (entity.gzip && prefs.gzip > 0 && prefs.gzip >= prefs.identity) return "gzip";
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
