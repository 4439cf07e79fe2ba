// Serves files from one folder: safe path resolution (never outside the folder, symlinks
// included), conditional and single-range requests, MIME types, and long cache lifetimes only
// for fingerprinted names.
import fs from "node:fs";
import fsp from "node:fs/promises";
import path from "node:path";
import { pipeline } from "node:stream/promises";
import type { Exchange } from "./exchange.js";
import { redirect, sendText } from "./exchange.js";
import { isNotModified } from "./cached-entity.js";
import { contentTypeOf } from "./mime.js";

/**
 * name.<8+ hex>.ext or name-<8+ hex>.ext: content-addressed, safe to cache for a year. The hash
 * must contain a letter, so a date such as photo-20240101.jpg is not mistaken for one.
 */
export function isFingerprinted(fileName: string): boolean {
  const hash = /[.-]([0-9a-f]{8,})\.[a-z0-9]+$/i.exec(fileName)?.[1];
  return hash !== undefined && /[a-f]/i.test(hash);
}

export interface StaticFolderOptions {
  /** Answer "/dir/" with dir/index.html (static sites); the blog's /static/ does not. */
  index?: boolean;
}

export type StaticResult = "sent" | "not-found";

export class StaticFolder {
  private realRoot: Promise<string>;

  constructor(
    readonly root: string,
    private readonly options: StaticFolderOptions = {},
  ) {
    this.realRoot = fsp.realpath(root).catch(() => path.resolve(root));
  }

  /**
   * Serves `urlPath` (percent-encoded, as in the request, relative to this folder) if it names a
   * file inside the folder. Returns "not-found" without answering otherwise, so the caller can
   * send its own 404 page.
   */
  async serve(ex: Exchange, urlPath: string): Promise<StaticResult> {
    const method = ex.req.method;
    if (method !== "GET" && method !== "HEAD") {
      sendText(ex.res, 405, "Method not allowed.", { allow: "GET, HEAD" });
      return "sent";
    }
    const relative = safeRelativePath(urlPath);
    if (relative === undefined) return "not-found";
    const file = await this.open(relative, urlPath.endsWith("/") || relative === "");
    if (!file) return "not-found";
    if (file.redirectToSlash) {
      file.handle.close().catch(() => {});
      redirect(ex, ex.path + "/" + ex.search, 308);
      return "sent";
    }
    try {
      await sendFile(ex, file.handle, file.stat, file.name);
    } finally {
      await file.handle.close().catch(() => {});
    }
    return "sent";
  }

  private async open(relative: string, wantsDirectory: boolean): Promise<OpenFile | undefined> {
    const root = await this.realRoot;
    const real = await fsp.realpath(path.join(root, relative)).catch(() => undefined);
    // Symlinks may point anywhere; only what resolves inside the root is served.
    if (real === undefined || (real !== root && !real.startsWith(root + path.sep))) return undefined;
    const stat = await fsp.stat(real).catch(() => undefined);
    if (stat?.isFile()) return openFile(real, false);
    if (!stat?.isDirectory() || !this.options.index) return undefined;
    // A folder: its index.html, after a redirect that adds the slash (so relative links work).
    const index = path.join(real, "index.html");
    return (await fsp.stat(index).catch(() => undefined))?.isFile() ? openFile(index, !wantsDirectory) : undefined;
  }
}

async function openFile(name: string, redirectToSlash: boolean): Promise<OpenFile | undefined> {
  const handle = await fsp.open(name, "r").catch(() => undefined);
  if (!handle) return undefined;
  // Stat the open file, not the path: what is sent is what was measured.
  const stat = await handle.stat().catch(() => undefined);
  if (!stat) {
    await handle.close().catch(() => {});
    return undefined;
  }
  return { handle, stat, name, redirectToSlash };
}

interface OpenFile {
  handle: fsp.FileHandle;
  stat: fs.Stats;
  name: string;
  redirectToSlash: boolean;
}

/**
 * The path inside the folder, or undefined for anything that could step outside it or that
 * names a hidden file: "..", ".", dot-files, backslashes, NUL, malformed percent-encoding.
 * Decodes exactly once, so "%252e%252e" stays the literal name "%2e%2e" (which does not exist).
 * Empty segments are dropped, so "/static//a.png" is "a.png".
 */
export function safeRelativePath(urlPath: string): string | undefined {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return undefined;
  }
  if (decoded.includes("\0") || decoded.includes("\\")) return undefined;
  const segments = decoded.split("/").filter((s) => s !== "");
  if (segments.some((s) => s.startsWith("."))) return undefined;
  return segments.join("/");
}

async function sendFile(ex: Exchange, handle: fsp.FileHandle, stat: fs.Stats, name: string): Promise<void> {
  const { req, res } = ex;
  const size = stat.size;
  const etag = `"${size.toString(16)}-${Math.floor(stat.mtimeMs).toString(16)}"`;
  const lastModified = new Date(Math.floor(stat.mtimeMs / 1000) * 1000);
  const headers: Record<string, string | number> = {
    "content-type": contentTypeOf(name),
    etag,
    "last-modified": lastModified.toUTCString(),
    "cache-control": isFingerprinted(path.basename(name)) ? "public, max-age=31536000, immutable" : "no-cache",
    "accept-ranges": "bytes",
    "x-content-type-options": "nosniff",
  };

  if (isNotModified(req.headers, etag, lastModified)) {
    const { "content-type": _t, "accept-ranges": _a, "x-content-type-options": _x, ...validators } = headers;
    res.writeHead(304, validators);
    res.end();
    return;
  }

  let start = 0;
  let end = size - 1;
  let status = 200;
  const rangeHeader = req.headers.range;
  const ifRange = req.headers["if-range"];
  if (rangeHeader !== undefined && rangeApplies(typeof ifRange === "string" ? ifRange : undefined, etag, lastModified)) {
    const range = parseRange(rangeHeader, size);
    if (range === "unsatisfiable") {
      res.writeHead(416, { "content-range": `bytes */${size}`, "content-type": "text/plain; charset=utf-8", "content-length": 0 });
      res.end();
      return;
    }
    if (range) {
      [start, end] = range;
      status = 206;
      headers["content-range"] = `bytes ${start}-${end}/${size}`;
    }
  }
  const length = size === 0 ? 0 : end - start + 1;
  headers["content-length"] = length;
  res.writeHead(status, headers);
  if (req.method === "HEAD" || size === 0) {
    res.end();
    return;
  }
  ex.bytesSent = length;
  const stream = handle.createReadStream({ start, end, autoClose: false });
  try {
    await pipeline(stream, res);
  } catch {
    // The client went away mid-transfer; nothing left to answer.
    if (!res.destroyed) res.destroy();
  }
}

/** If-Range: the range applies only when the client's validator still matches (strong compare). */
function rangeApplies(ifRange: string | undefined, etag: string, lastModified: Date): boolean {
  if (ifRange === undefined) return true;
  if (ifRange.startsWith('"')) return ifRange === etag;
  const date = Date.parse(ifRange);
  return !Number.isNaN(date) && date === lastModified.getTime();
}

/**
 * One byte range of `bytes=a-b`, `bytes=a-` or `bytes=-n`. Several ranges, or a header that is not
 * a byte range, are ignored (the whole file is sent, as RFC 9110 allows).
 */
export function parseRange(header: string, size: number): [number, number] | "unsatisfiable" | undefined {
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m) return undefined;
  const [, first, last] = m as unknown as [string, string, string];
  if (first === "" && last === "") return undefined;
  if (first === "") {
    const suffix = Number(last);
    if (suffix === 0 || size === 0) return "unsatisfiable";
    return [Math.max(0, size - suffix), size - 1];
  }
  const start = Number(first);
  if (start >= size) return "unsatisfiable";
  const end = last === "" ? size - 1 : Math.min(Number(last), size - 1);
  if (end < start) return undefined;
  return [start, end];
}
