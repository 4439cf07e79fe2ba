// The header fields a site's config puts on every response (its `headers:`, and HSTS over
// HTTPS), replacing fields of the same name from the handler or the upstream.
//
// They are added as the response head is written, merged into the handler's own header object.
// Set beforehand with setHeader, they sent Node's writeHead down its slow path (every field of
// the handler's object set again one by one): 7 setHeader calls and some 5 % of the CPU of
// answering a cached page.
import http, { type OutgoingHttpHeader, type OutgoingHttpHeaders } from "node:http";
import http2 from "node:http2";
import type { Response } from "./exchange.js";

type HeadersArg = OutgoingHttpHeaders | OutgoingHttpHeader[] | undefined;

export class SiteHeaders {
  /** The fields, lower-case names; frozen, so Node can be given the object itself. */
  readonly fields: Readonly<Record<string, string>>;
  private readonly names: Set<string>;
  /** A handler's unchanging header object (a cached page's) with the fields on top. */
  private readonly merged = new WeakMap<object, OutgoingHttpHeaders>();

  constructor(fields: [string, string][]) {
    this.fields = Object.freeze(Object.fromEntries(fields.map(([name, value]) => [name.toLowerCase(), value])));
    this.names = new Set(Object.keys(this.fields));
  }

  /** `headers`, as writeHead takes them, without the fields of these names and with these added. */
  over(headers: HeadersArg | null): HeadersArg {
    if (headers === undefined || headers === null) return this.fields;
    if (Array.isArray(headers)) return this.overList(headers);
    if (!Object.isFrozen(headers)) return this.merge(headers);
    let merged = this.merged.get(headers);
    if (!merged) this.merged.set(headers, (merged = Object.freeze(this.merge(headers))));
    return merged;
  }

  private merge(headers: OutgoingHttpHeaders): OutgoingHttpHeaders {
    // No prototype: a field named __proto__ stays a field.
    const out: OutgoingHttpHeaders = Object.create(null) as OutgoingHttpHeaders;
    for (const name of Object.keys(headers)) if (!this.names.has(name.toLowerCase())) out[name] = headers[name];
    return Object.assign(out, this.fields);
  }

  /** writeHead's list forms: [[name, value], …] (each appended) or [name, value, name, value, …]. */
  private overList(list: OutgoingHttpHeader[]): OutgoingHttpHeader[] {
    const fields = Object.entries(this.fields);
    if (list.length > 0 && Array.isArray(list[0])) {
      const pairs = list as unknown as [string, OutgoingHttpHeader][];
      return [...pairs.filter(([name]) => !this.names.has(String(name).toLowerCase())), ...fields] as unknown as OutgoingHttpHeader[];
    }
    const out: OutgoingHttpHeader[] = [];
    for (let i = 0; i + 1 < list.length; i += 2) if (!this.names.has(String(list[i]).toLowerCase())) out.push(list[i]!, list[i + 1]!);
    return [...out, ...fields.flat()];
  }
}

/**
 * writeHead's arguments after the status, (headers?) or (reason, headers?), as Node reads them,
 * given back as (reason, headers) with the site's fields merged into the headers.
 */
function headWithSite(site: SiteHeaders | undefined, reasonOrHeaders: unknown, headers: unknown): [string, OutgoingHttpHeaders] {
  const reason = typeof reasonOrHeaders === "string" ? reasonOrHeaders : undefined;
  const given = (reason !== undefined ? headers : (headers ?? reasonOrHeaders)) as HeadersArg | null;
  return [reason, site ? site.over(given) : given] as [string, OutgoingHttpHeaders];
}

/** The HTTP/1 response of padlock's listeners. */
export class SiteHeadersResponse<Request extends http.IncomingMessage = http.IncomingMessage> extends http.ServerResponse<Request> {
  siteHeaders: SiteHeaders | undefined = undefined;

  // Every head passes here: Node's implicit head (write or end before writeHead) calls writeHead too.
  override writeHead(statusCode: number, reasonOrHeaders?: string | HeadersArg, headers?: HeadersArg): this {
    return super.writeHead(statusCode, ...headWithSite(this.siteHeaders, reasonOrHeaders, headers));
  }
}

/** The HTTP/2 response of padlock's HTTPS listener. */
export class SiteHeadersHttp2Response<Request extends http2.Http2ServerRequest = http2.Http2ServerRequest> extends http2.Http2ServerResponse<Request> {
  siteHeaders: SiteHeaders | undefined = undefined;

  // Typed for objects only, as Node's types have it; the list forms pass through alike.
  override writeHead(statusCode: number, reasonOrHeaders?: string | OutgoingHttpHeaders, headers?: OutgoingHttpHeaders): this {
    return super.writeHead(statusCode, ...headWithSite(this.siteHeaders, reasonOrHeaders, headers));
  }
}

// ServerResponse's deprecated alias of writeHead is Node's own function: it must pass here too.
Object.defineProperty(SiteHeadersResponse.prototype, "writeHeader", { value: SiteHeadersResponse.prototype.writeHead, writable: true, configurable: true });

/** Gives `res` the site's fields; a response padlock did not make gets them set at once. */
export function addSiteHeaders(res: Response, site: SiteHeaders | undefined): void {
  if (!site) return;
  const ours = res as unknown as SiteHeadersResponse | SiteHeadersHttp2Response;
  if (ours instanceof SiteHeadersResponse || ours instanceof SiteHeadersHttp2Response) ours.siteHeaders = site;
  else for (const [name, value] of Object.entries(site.fields)) res.setHeader(name, value);
}
