// nginx's configuration as a padlock.yaml: server blocks become sites (server_name → hosts, the
// port 80 block that only redirects to HTTPS folds into its HTTPS twin), root/alias become
// static folders (or a blog when the folder looks like one), location + proxy_pass become proxy
// routes, upstream blocks become lists of upstreams. What padlock does itself (the HTTPS
// redirect, the ACME challenge folder, TLS settings, forwarding headers, WebSocket upgrades) is
// dropped with a note; everything else is listed as not translated, with where and why.
import { existsSync, statSync } from "node:fs";
import path from "node:path";
import { Document, isMap, isSeq, type YAMLMap, type YAMLSeq } from "yaml";
import type { NginxDirective, PathMap } from "./nginx-config.js";
import { headerFieldProblem } from "../config/header-field.js";

export interface TranslateOptions {
  /** The nginx file as named on the command line (comments show paths relative to its folder). */
  source: string;
  /** nginx's prefix: relative root and alias paths are relative to it (default: the folder of source). */
  prefix?: string;
  /** Where nginx's paths are on this machine. */
  mapPath?: PathMap;
  /** Folder the padlock.yaml goes to: relative paths in it are relative to that folder. */
  outputDir: string;
  /** The config's ca: (default letsencrypt). */
  ca?: string;
  email?: string;
}

export interface Note {
  /** file:line */
  where: string;
  what: string;
  why: string;
}

export interface Translation {
  config: Record<string, unknown> & { sites: Record<string, unknown>[] };
  yaml: string;
  /** Dropped because padlock does it itself. */
  builtIn: Note[];
  /** Not translated: needs a person. */
  untranslated: Note[];
}

type Config = Record<string, unknown> & { sites: SiteConfig[] };
type SiteConfig = Record<string, unknown> & { hosts: string[]; routes?: Record<string, unknown>[] };

interface Listen {
  port: number;
  ssl: boolean;
  default: boolean;
}

interface Server {
  d: NginxDirective;
  names: string[];
  listens: Listen[];
  tls: boolean;
}

interface Upstream {
  urls: string[];
  d: NginxDirective;
}

/** Where a redirect-only server sends its requests. */
type RedirectKind = { kind: "https" } | { kind: "host"; target: string } | undefined;

const REDIRECT_CODES = new Set(["301", "302", "303", "307", "308"]);
const ACME_PATH = "/.well-known/acme-challenge/";
const DEFAULT_PROXY_TIMEOUT_S = 60;

/** Directives that only tune nginx itself, or that padlock does on its own. */
const BUILT_IN: Record<string, string> = {
  user: "padlock runs as the user that starts it (or user: in the config)",
  worker_processes: "padlock is one Node.js process",
  worker_connections: "padlock is one Node.js process",
  worker_rlimit_nofile: "padlock is one Node.js process",
  pid: "padlock is one Node.js process",
  daemon: "padlock runs in the foreground, under systemd, a container or your shell",
  master_process: "padlock is one Node.js process",
  events: "padlock is one Node.js process",
  load_module: "padlock has no modules",
  sendfile: "padlock serves files itself",
  tcp_nopush: "padlock serves files itself",
  tcp_nodelay: "padlock serves files itself",
  types_hash_max_size: "padlock knows file types itself",
  types: "padlock knows file types itself",
  default_type: "padlock knows file types itself",
  server_names_hash_bucket_size: "not needed",
  server_names_hash_max_size: "not needed",
  keepalive_timeout: "padlock closes idle connections after limits.idle_timeout (default 60 s)",
  server_tokens: "padlock sends no Server header",
  http2: "padlock speaks HTTP/2 and HTTP/1.1 on its HTTPS port",
  ssl_protocols: "padlock's TLS policy: TLS 1.2 and 1.3, Mozilla's intermediate ciphers",
  ssl_ciphers: "padlock's TLS policy: TLS 1.2 and 1.3, Mozilla's intermediate ciphers",
  ssl_prefer_server_ciphers: "padlock's TLS policy: TLS 1.2 and 1.3, Mozilla's intermediate ciphers",
  ssl_ecdh_curve: "padlock's TLS policy: TLS 1.2 and 1.3, Mozilla's intermediate ciphers",
  ssl_dhparam: "padlock's TLS policy uses ECDHE only, no DH parameters",
  ssl_session_cache: "padlock resumes TLS sessions with tickets whose keys change daily",
  ssl_session_timeout: "padlock resumes TLS sessions with tickets whose keys change daily",
  ssl_session_tickets: "padlock resumes TLS sessions with tickets whose keys change daily",
  ssl_stapling: "padlock does not staple OCSP (Let's Encrypt ended OCSP)",
  ssl_stapling_verify: "padlock does not staple OCSP (Let's Encrypt ended OCSP)",
  ssl_trusted_certificate: "padlock does not staple OCSP (Let's Encrypt ended OCSP)",
  ssl_certificate_key: "padlock keeps the key of the certificate it gets",
  ssl: "padlock serves HTTPS on https_port",
  proxy_http_version: "padlock speaks HTTP/1.1 to upstreams",
  proxy_buffering: "padlock streams bodies both ways",
  proxy_buffers: "padlock streams bodies both ways",
  proxy_buffer_size: "padlock streams bodies both ways",
  proxy_busy_buffers_size: "padlock streams bodies both ways",
  proxy_request_buffering: "padlock streams bodies both ways (small bodies are received whole first)",
  proxy_temp_path: "padlock streams bodies both ways",
  client_body_temp_path: "padlock streams bodies both ways",
  fastcgi_temp_path: "padlock keeps no temporary files",
  uwsgi_temp_path: "padlock keeps no temporary files",
  scgi_temp_path: "padlock keeps no temporary files",
  proxy_temp_file_write_size: "padlock streams bodies both ways",
  proxy_max_temp_file_size: "padlock streams bodies both ways",
  keepalive: "padlock keeps connections to upstreams open (a pool per upstream)",
  index: "padlock serves index.html for a folder",
  charset: "padlock names UTF-8 for text files",
};

const NOT_TRANSLATED: Record<string, string> = {
  access_log: "padlock writes one JSON line per request to standard output (log: { access: common } for the common format, off for none)",
  error_log: "padlock logs to standard output",
  log_format: "padlock's access log has its own fields (log: { access: json | common | off })",
  gzip: "padlock serves the blog's pages precompressed; other responses pass as they are",
  rewrite: "padlock has no rewrite rules",
  if: "padlock has no conditions",
  set: "padlock has no variables",
  map: "padlock has no variables",
  error_page: "padlock answers errors with its own short pages",
  allow: "padlock has no address rules (and an allow without a deny restricts nothing)",
  limit_req: "padlock has no request rate limits",
  limit_req_zone: "padlock has no request rate limits",
  limit_conn: "padlock has no connection limits per client",
  limit_conn_zone: "padlock has no connection limits per client",
  fastcgi_pass: "padlock has no FastCGI: run the app as an HTTP server and proxy to it",
  uwsgi_pass: "padlock has no uwsgi protocol: run the app as an HTTP server (gunicorn) and proxy to it",
  grpc_pass: "padlock does not proxy gRPC",
  expires: "padlock sets its own caching headers (ETag, Last-Modified)",
  proxy_cache: "padlock does not cache upstream responses",
  proxy_cache_path: "padlock does not cache upstream responses",
  proxy_cache_valid: "padlock does not cache upstream responses",
  sub_filter: "padlock does not change response bodies",
  stream: "padlock proxies HTTP only",
  mail: "padlock proxies HTTP only",
};

export function translateNginx(directives: NginxDirective[], options: TranslateOptions): Translation {
  return new Translator(options).run(directives);
}

class Translator {
  private readonly builtIn: Note[] = [];
  private readonly untranslated: Note[] = [];
  private readonly upstreams = new Map<string, Upstream>();
  private readonly certbotFolders = new Set<string>();
  private readonly siteNotes = new Map<SiteConfig, string[]>();
  private readonly baseDir: string;
  private readonly prefix: string;
  /** http-level proxy and body-size settings, inherited by servers. */
  private readonly httpSettings: NginxDirective[] = [];

  constructor(private readonly options: TranslateOptions) {
    this.baseDir = path.dirname(path.resolve(options.source));
    this.prefix = options.prefix ?? this.baseDir;
  }

  run(top: NginxDirective[]): Translation {
    const http: NginxDirective[] = [];
    for (const d of top) {
      if (d.name === "http" && d.block) http.push(...d.block);
      else if (["server", "upstream", "map"].includes(d.name) || (d.name.startsWith("proxy_") && !d.block)) http.push(d); // a file of server blocks, as in sites-enabled/
      else this.generic(d);
    }
    for (const d of http) if (d.name === "upstream" && d.block) this.upstreams.set(d.args[0] ?? "", { urls: [], d });
    const servers: Server[] = [];
    for (const d of http) {
      if (d.name === "server" && d.block) servers.push(this.readServer(d));
      else if (d.name === "upstream") continue; // translated where used
      else if (d.name === "map" && d.args[0] === "$http_upgrade") this.note(this.builtIn, d, "map $http_upgrade", "WebSocket upgrades pass through padlock as they are");
      else if (isInherited(d)) this.httpSettings.push(d);
      else this.generic(d);
    }
    const config: Config = { ca: this.options.ca ?? "letsencrypt", accept_terms: true, ...(this.options.email ? { email: this.options.email } : {}), sites: this.sites(servers) };
    if (config.sites.length === 0) {
      this.untranslated.push({ where: this.options.source, what: "the whole file", why: "it has no server block padlock can serve" });
    }
    const notes = config.sites.map((site) => this.siteNotes.get(site));
    config.sites = config.sites.map(inKeyOrder);
    return { config, yaml: this.yaml(config, notes), builtIn: unique(this.builtIn), untranslated: unique(this.untranslated) };
  }

  private readServer(d: NginxDirective): Server {
    const names = d.block!.filter((x) => x.name === "server_name").flatMap((x) => x.args);
    const listens = d.block!.filter((x) => x.name === "listen").map((x) => parseListen(x.args));
    if (listens.length === 0) listens.push({ port: 80, ssl: false, default: false });
    const tls = listens.some((l) => l.ssl) || d.block!.some((x) => x.name === "ssl_certificate" || (x.name === "ssl" && x.args[0] === "on"));
    return { d, names, listens, tls };
  }

  /** Server blocks → sites: redirect-only blocks fold into the site they send to. */
  private sites(servers: Server[]): SiteConfig[] {
    const content: Server[] = [];
    const hostRedirects: { server: Server; target: string }[] = [];
    for (const s of servers) {
      const redirect = redirectOnly(s);
      if (redirect?.kind === "https") {
        this.note(this.builtIn, s.d, `server ${s.names.join(" ") || "(no server_name)"} on port ${ports(s)}: return ${redirectTarget(s)}`, "padlock redirects plain HTTP to HTTPS itself and answers /.well-known/acme-challenge/ on port 80");
        if (redirectTarget(s)!.startsWith("https://$server_name") && s.names.length > 1) {
          this.note(this.untranslated, s.d, `return ${redirectTarget(s)} for ${s.names.slice(1).join(", ")}`, `$server_name is the first name, so nginx sent these to https://${s.names[0]}; padlock sends each name to HTTPS on the same name`);
        }
      } else if (redirect?.kind === "host") {
        hostRedirects.push({ server: s, target: redirect.target });
      } else if (refusesAll(s)) {
        this.note(this.builtIn, s.d, `server ${s.names.join(" ") || "_"} that refuses every request`, "padlock answers names no site lists with 404 (HTTP) or 421 (HTTPS) itself");
      } else {
        content.push(s);
      }
    }
    // The same names on port 80 and 443: the HTTPS block is the site.
    const byNames = new Map<string, Server>();
    for (const s of content) {
      const key = [...s.names].sort().join(" ");
      const seen = byNames.get(key);
      if (!seen) byNames.set(key, s);
      else {
        const [kept, dropped] = seen.tls || !s.tls ? [seen, s] : [s, seen];
        byNames.set(key, kept);
        this.note(this.untranslated, dropped.d, `server ${dropped.names.join(" ")} on port ${ports(dropped)}`, `what it served over plain HTTP is not translated: padlock serves these names as the block at ${this.where(kept.d)} says, and redirects plain HTTP to HTTPS (http: serve on the site keeps plain HTTP instead)`);
      }
    }
    const sites: SiteConfig[] = [];
    const siteOf = new Map<string, SiteConfig>();
    let defaultTaken = false;
    for (const s of byNames.values()) {
      const site = this.site(s);
      if (!site) continue;
      if (s.listens.some((l) => l.default)) {
        if (defaultTaken) this.note(this.untranslated, s.d, "default_server", "padlock has one default site for every port; another site already is");
        else site.default = true;
        defaultTaken = true;
      }
      sites.push(site);
      for (const h of site.hosts) siteOf.set(h, site);
    }
    for (const { server, target } of hostRedirects) this.foldRedirect(server, target, siteOf, sites);
    return sites;
  }

  /** www.example.com → example.com becomes canonical: apex on example.com's site, and so on. */
  private foldRedirect(s: Server, target: string, siteOf: Map<string, SiteConfig>, sites: SiteConfig[]): void {
    const url = new URL(target);
    const names = this.hostNames(s);
    const site = siteOf.get(url.hostname);
    const canonical = site && names.every((n) => n === `www.${url.hostname}`) ? "apex" : site && names.every((n) => `www.${n}` === url.hostname) ? "www" : undefined;
    if (site && canonical && !site.canonical) {
      site.hosts.push(...names.filter((n) => !site.hosts.includes(n)));
      site.canonical = canonical;
      this.note(this.builtIn, s.d, `server ${names.join(" ")}: return ${redirectTarget(s)}`, `the site ${url.hostname} lists ${names.join(", ")} too, with canonical: ${canonical}`);
      return;
    }
    if (names.length === 0) return;
    const redirect: SiteConfig = { hosts: names, redirect: `${url.protocol}//${url.host}` };
    this.siteNotes.set(redirect, [`from ${this.where(s.d)}: server_name ${s.names.join(" ")} (return ${redirectTarget(s)})`]);
    sites.push(redirect);
  }

  /** One server block as a site, or undefined (with a note) when it has no name padlock can serve. */
  private site(s: Server): SiteConfig | undefined {
    const hosts = this.hostNames(s);
    if (hosts.length === 0) {
      this.note(this.untranslated, s.d, `server ${s.names.join(" ") || "(no server_name)"}`, "it has no host name padlock can get a certificate for; give it one with server_name");
      return undefined;
    }
    const site: SiteConfig = { hosts };
    const notes = [`from ${this.where(s.d)}: server_name ${s.names.join(" ")}; listen ${[...new Set(s.listens.map((l) => `${l.port}${l.ssl ? " ssl" : ""}`))].join(", ")}`];
    this.siteNotes.set(site, notes);
    if (!s.tls) notes.push("nginx served these names over plain HTTP only; padlock gets a certificate and redirects to HTTPS (add http: serve to keep plain HTTP)");
    const ports = new Set(s.listens.map((l) => l.port));
    for (const p of ports) if (p !== 80 && p !== 443) this.note(this.untranslated, s.d, `listen ${p}`, "padlock listens on http_port and https_port (80 and 443 by default) for every site");

    const server = s.d.block!;
    if (this.restricted(server, `server ${s.names.join(" ")}`)) return undefined;
    const inherited = [...this.httpSettings, ...server.filter(isInherited)];
    let root: NginxDirective | undefined;
    let main = false;
    const routes: Record<string, unknown>[] = [];
    for (const d of server) {
      switch (d.name) {
        case "listen":
        case "server_name":
        case "auth_basic":
        case "auth_basic_user_file":
          break;
        case "root":
          root = d;
          break;
        case "ssl_certificate":
          this.certificate(d);
          break;
        case "add_header":
          this.header(d, site);
          break;
        case "location": {
          // A `location /` left out is not replaced by the server's root: nginx never served that.
          if ((d.args[0] === "^~" ? d.args[1] : d.args[0]) === "/") main = true;
          const part = this.location(d, root, inherited);
          if (!part) break;
          if (part.path === "/") {
            Object.assign(site, part.options, part.handler);
          } else {
            routes.push({ path: part.path, ...part.handler, ...part.options });
          }
          break;
        }
        case "return":
          this.note(this.untranslated, d, describe(d), "a fixed answer for every request; padlock has no such handler");
          main = true;
          break;
        case "try_files":
          if (!plainTryFiles(d.args)) this.note(this.untranslated, d, describe(d), "padlock serves the file or the folder's index.html, else 404; it has no fallbacks");
          break;
        default:
          if (isInherited(d)) break; // read with each location
          this.generic(d);
      }
    }
    if (!main && root?.args[0] !== undefined) Object.assign(site, this.folder(root.args[0], root));
    if (routes.length) site.routes = routes.sort((a, b) => String(b.path).length - String(a.path).length);
    const handlers = ["blog", "static", "proxy", "redirect"].filter((k) => k in site);
    if (handlers.length === 0 && !site.routes) {
      this.note(this.untranslated, s.d, `server ${s.names.join(" ")}`, "nothing in it could be translated into something to serve");
      return undefined;
    }
    const maxBody = bodySize(inherited);
    if (maxBody !== undefined && (site.proxy !== undefined || site.routes?.some((r) => r.proxy !== undefined))) site.max_body = maxBody;
    return site;
  }

  /** server_name values padlock can use: wildcards and regular expressions get a note. */
  private hostNames(s: Server): string[] {
    const hosts: string[] = [];
    for (const name of s.names) {
      if (name === "_" || name === "") continue;
      if (name.startsWith("~")) this.note(this.untranslated, s.d, `server_name ${name}`, "padlock matches host names exactly (or *.name); it has no regular expressions");
      else if (name.startsWith(".")) {
        hosts.push(name.slice(1).toLowerCase());
        this.note(this.untranslated, s.d, `server_name ${name}`, `translated as ${name.slice(1)}; its subdomains need a wildcard certificate, which needs DNS-01 (tls: { challenges: [dns-01], dns: … }): add "*${name}" to hosts with that`);
      } else if (name.includes("*")) this.note(this.untranslated, s.d, `server_name ${name}`, "a wildcard name needs DNS-01 for its certificate: add it to a site with tls: { challenges: [dns-01], dns: … } (see the README)");
      else if (!hosts.includes(name.toLowerCase())) hosts.push(name.toLowerCase());
    }
    return hosts;
  }

  /** A prefix location as a route (or the site's main handler for `/`); other kinds get a note. */
  private location(d: NginxDirective, serverRoot: NginxDirective | undefined, inherited: NginxDirective[]): { path: string; handler: Record<string, unknown>; options: Record<string, unknown> } | undefined {
    const [first, second] = d.args;
    if (first === "=" || first?.startsWith("~") || first?.startsWith("@")) {
      const why = first === "=" ? "padlock routes by path prefix; it has no exact-match locations" : first.startsWith("@") ? "padlock has no named locations" : "padlock routes by path prefix; it has no regular-expression locations";
      this.note(this.untranslated, d, `location ${d.args.join(" ")}`, why);
      return undefined;
    }
    const prefix = first === "^~" ? second! : first!;
    if (prefix === ACME_PATH || prefix === ACME_PATH.slice(0, -1)) {
      this.note(this.builtIn, d, `location ${prefix}`, "padlock answers the ACME challenge itself");
      return undefined;
    }
    const block = d.block ?? [];
    if (this.restricted(block, `location ${prefix}`)) return undefined;
    let root = serverRoot;
    let alias: NginxDirective | undefined;
    let handler: Record<string, unknown> | undefined;
    // A proxy_pass or return that cannot be translated: the location is left out, not served otherwise.
    let failed = false;
    const options: Record<string, unknown> = {};
    const settings = [...inherited.filter((x) => !block.some((y) => y.name === x.name)), ...block.filter(isInherited)];
    for (const x of block) {
      switch (x.name) {
        case "proxy_pass":
          handler = this.proxyPass(x, prefix);
          failed ||= !handler;
          break;
        case "root":
          root = x;
          break;
        case "alias":
          alias = x;
          break;
        case "return":
          handler = this.returnTo(x, prefix);
          failed ||= !handler;
          break;
        case "try_files":
          if (!plainTryFiles(x.args)) this.note(this.untranslated, x, describe(x), "padlock serves the file or the folder's index.html, else 404; it has no fallbacks");
          break;
        case "add_header":
          this.note(this.untranslated, x, describe(x), "padlock sets response headers per site (headers:), not per path");
          break;
        case "location":
          this.note(this.untranslated, x, `location ${x.args.join(" ")} inside location ${prefix}`, "padlock has no nested locations");
          break;
        default:
          if (isInherited(x)) break;
          this.generic(x);
      }
    }
    if (failed) return undefined;
    if (handler?.proxy !== undefined) Object.assign(options, this.proxyOptions(settings, d));
    if (!handler) {
      const folder = alias ?? root;
      if (folder?.args[0] === undefined) return undefined;
      handler = this.folder(alias || prefix === "/" ? folder.args[0] : path.posix.join(folder.args[0], prefix), folder, prefix !== "/");
    }
    return { path: prefix, handler, options };
  }

  /**
   * Password or address rules padlock cannot keep: what they guard is left out (with a note)
   * rather than served to everyone.
   */
  private restricted(block: NginxDirective[], what: string): boolean {
    const rules = block.filter((x) => (x.name === "auth_basic" && x.args[0] !== "off") || x.name === "deny" || x.name === "auth_request");
    if (rules.length === 0) return false;
    for (const x of block.filter((y) => ["auth_basic", "auth_basic_user_file", "allow", "deny", "auth_request"].includes(y.name))) {
      this.note(this.untranslated, x, describe(x), `padlock has no ${x.name.startsWith("auth") ? "password protection" : "address rules"}, so ${what} is left out rather than served to everyone`);
    }
    return true;
  }

  private proxyPass(d: NginxDirective, prefix: string): Record<string, unknown> | undefined {
    const target = d.args[0] ?? "";
    const m = /^(https?):\/\/([^/]+)(\/.*)?$/.exec(target);
    if (!m || target.includes("$")) {
      this.note(this.untranslated, d, describe(d), target.startsWith("http://unix:") ? "padlock proxies to TCP addresses, not Unix sockets: let the app listen on 127.0.0.1:PORT" : "padlock proxies to fixed http:// or https:// URLs (no variables)");
      return undefined;
    }
    const [, scheme, authority, uri] = m;
    // nginx replaces the location's prefix by the URI part; padlock puts a URL's path in front of
    // the whole request path. The same when the URI part ends with the prefix.
    let base = "";
    if (uri !== undefined) {
      if (uri.endsWith(prefix)) base = uri.slice(0, uri.length - prefix.length);
      else {
        this.note(this.untranslated, d, describe(d), `nginx sent ${prefix}x to the app as ${uri}x; padlock sends the whole path (${prefix}x), so the app must answer under ${prefix}`);
      }
    }
    const upstream = this.upstreams.get(authority!);
    const urls = upstream ? this.upstreamUrls(upstream, scheme!) : [`${scheme}://${authority}`];
    if (urls.length === 0) return undefined;
    const withBase = urls.map((u) => u + base);
    return { proxy: withBase.length === 1 ? withBase[0] : withBase };
  }

  private upstreamUrls(u: Upstream, scheme: string): string[] {
    if (u.urls.length) return u.urls.map((url) => url.replace(/^https?:/, `${scheme}:`));
    for (const x of u.d.block!) {
      if (x.name === "server") {
        const [address, ...params] = x.args;
        if (address?.startsWith("unix:")) {
          this.note(this.untranslated, x, describe(x), "padlock proxies to TCP addresses, not Unix sockets: let the app listen on 127.0.0.1:PORT");
          continue;
        }
        u.urls.push(`${scheme}://${address}`);
        if (params.length) this.note(this.untranslated, x, `${params.join(" ")} in upstream ${u.d.args[0]}`, "padlock sends requests to its upstreams in turn and skips a failing one for 10 s; weights, backups and failure counts are not translated");
      } else if (x.name === "keepalive") {
        this.note(this.builtIn, x, describe(x), BUILT_IN.keepalive!);
      } else {
        this.note(this.untranslated, x, `${describe(x)} in upstream ${u.d.args[0]}`, "padlock sends requests to its upstreams in turn");
      }
    }
    if (u.urls.length === 0) this.note(this.untranslated, u.d, `upstream ${u.d.args[0]}`, "it has no server padlock can proxy to");
    return u.urls;
  }

  /** `return 301 https://host$request_uri` → redirect: https://host (padlock keeps the path). */
  private returnTo(d: NginxDirective, prefix: string): Record<string, unknown> | undefined {
    const [code, target] = d.args;
    if (REDIRECT_CODES.has(code ?? "") && target?.endsWith("$request_uri") && /^https?:\/\/[^/$]+$/.test(target.slice(0, -"$request_uri".length))) {
      return { redirect: target.slice(0, -"$request_uri".length) };
    }
    this.note(this.untranslated, d, describe(d), REDIRECT_CODES.has(code ?? "") ? `padlock's redirects keep the request's path (${prefix}… → TARGET${prefix}…): only return CODE https://host$request_uri translates` : "a fixed answer; padlock has no such handler");
    return undefined;
  }

  /** proxy_set_header and the rest of a location's proxy settings. */
  private proxyOptions(settings: NginxDirective[], location: NginxDirective): Record<string, unknown> {
    const options: Record<string, unknown> = {};
    let hostSet = false;
    let timeout: number | undefined;
    for (const d of settings) {
      if (d.name === "proxy_set_header") {
        const [name = "", value = ""] = d.args;
        const header = name.toLowerCase();
        const as = FORWARDING[header];
        if (header === "host") {
          hostSet = true;
          if (value === "$host" || value === "$http_host") this.note(this.builtIn, d, describe(d), "padlock passes the visitor's Host on (preserve_host: true is its default)");
          else if (value === "$proxy_host") options.preserve_host = false;
          else this.note(this.untranslated, d, describe(d), "padlock sends the visitor's Host or, with preserve_host: false, the upstream's own");
        } else if (as && as.values.includes(value)) {
          this.note(this.builtIn, d, describe(d), as.why);
        } else if (as) {
          this.note(this.untranslated, d, describe(d), `${as.sends}; this value is not kept`);
        } else if ((header === "upgrade" && value === "$http_upgrade") || (header === "connection" && ["$connection_upgrade", "upgrade", "Upgrade", ""].includes(value))) {
          this.note(this.builtIn, d, describe(d), "WebSocket upgrades pass through padlock as they are");
        } else {
          this.note(this.untranslated, d, describe(d), "padlock does not add request headers for the app");
        }
      } else if (d.name === "proxy_read_timeout" || d.name === "proxy_send_timeout") {
        const seconds = parseSeconds(d.args[0]);
        if (seconds === undefined) this.note(this.untranslated, d, describe(d), "not a time nginx would accept");
        else timeout = Math.max(timeout ?? 0, seconds);
      } else if (d.name === "proxy_redirect" && d.args[0] === "off") {
        this.note(this.builtIn, d, describe(d), "padlock passes the app's Location headers as they are");
      } else if (d.name === "client_max_body_size") {
        continue; // per site
      } else if (d.name.startsWith("proxy_")) {
        if (d.name in BUILT_IN) this.note(this.builtIn, d, describe(d), BUILT_IN[d.name]!);
        else this.note(this.untranslated, d, describe(d), NOT_TRANSLATED[d.name] ?? "padlock has no such proxy setting");
      }
    }
    if (!hostSet) {
      options.preserve_host = false;
      this.note(this.builtIn, location, `location ${location.args.join(" ")}: no proxy_set_header Host`, "nginx sent the upstream's own name as Host; preserve_host: false does the same (remove it to pass the visitor's Host, as most apps behind a proxy expect)");
    }
    if (timeout !== undefined && timeout !== DEFAULT_PROXY_TIMEOUT_S) options.timeout = timeout;
    return options;
  }

  /** A folder: a blog when it has content/ and templates/, else static files. */
  private folder(nginxDir: string, d: NginxDirective, route = false): Record<string, unknown> {
    const dir = (this.options.mapPath ?? ((f: string) => f))(path.resolve(this.prefix, nginxDir));
    const full = path.resolve(this.options.outputDir, dir);
    const isDir = (p: string) => {
      try {
        return statSync(p).isDirectory();
      } catch {
        return false;
      }
    };
    if (!existsSync(full)) this.note(this.untranslated, d, dir, "this folder does not exist on this machine (a path inside nginx's container?): point the site at the folder that holds these files, or map the path with --map-path");
    if (!route && isDir(path.join(full, "content")) && isDir(path.join(full, "templates"))) return { blog: dir };
    return { static: dir };
  }

  private header(d: NginxDirective, site: SiteConfig): void {
    const [name = "", value = ""] = d.args;
    if (name.toLowerCase() === "strict-transport-security") {
      const maxAge = Number(/max-age=(\d+)/i.exec(value)?.[1] ?? NaN);
      const hsts = { max_age: maxAge, include_subdomains: /includesubdomains/i.test(value) || undefined, preload: /preload/i.test(value) || undefined };
      if (Number.isNaN(maxAge)) return this.note(this.untranslated, d, describe(d), "no max-age in it");
      if (maxAge !== 31_536_000 || hsts.include_subdomains || hsts.preload) site.hsts = Object.fromEntries(Object.entries(hsts).filter(([, v]) => v !== undefined));
      return this.note(this.builtIn, d, describe(d), site.hsts ? "padlock sends HSTS over HTTPS itself; the site's hsts: keeps these settings" : "padlock sends HSTS over HTTPS itself (one year, as here)");
    }
    if (name.toLowerCase() === "server") return this.note(this.builtIn, d, describe(d), BUILT_IN.server_tokens!);
    if (value.includes("$")) return this.note(this.untranslated, d, describe(d), "padlock's headers: are fixed values, without variables");
    const problem = headerFieldProblem(name, value);
    if (problem) return this.note(this.untranslated, d, describe(d), problem);
    site.headers = { ...(site.headers as Record<string, string> | undefined), [name]: value };
  }

  private certificate(d: NginxDirective): void {
    const file = d.args[0] ?? "";
    const live = file.indexOf("/live/");
    if (live >= 0) {
      this.certbotFolders.add(file.slice(0, live));
      this.note(this.builtIn, d, describe(d), "a certificate from certbot: import it with padlock import certbot (see the top of this file), and padlock renews it itself");
    } else {
      this.note(this.untranslated, d, describe(d), "padlock gets its own certificate for these names from the CA; this file is not used");
    }
  }

  private includeNote(d: NginxDirective): void {
    if (d.args[0]?.includes("letsencrypt")) return this.note(this.builtIn, d, describe(d), "certbot's TLS settings for nginx: padlock has its own TLS policy (TLS 1.2 and 1.3)");
    this.note(this.untranslated, d, describe(d), `not read: ${d.unread}`);
  }

  /** A directive with no place in the translation: padlock's own business, or a note on what is lost. */
  private generic(d: NginxDirective): void {
    if (d.unread) return this.includeNote(d);
    if (d.name in BUILT_IN) return this.note(this.builtIn, d, describe(d), BUILT_IN[d.name]!);
    if (d.name.startsWith("ssl_")) return this.note(this.builtIn, d, describe(d), "padlock's TLS policy: TLS 1.2 and 1.3, Mozilla's intermediate ciphers");
    const why = NOT_TRANSLATED[d.name] ?? NOT_TRANSLATED[d.name.replace(/_.*$/, "")] ?? "padlock has no equivalent";
    this.note(this.untranslated, d, describe(d), why);
  }

  private note(list: Note[], d: NginxDirective, what: string, why: string): void {
    list.push({ where: this.where(d), what, why });
  }

  /** file:line, the file relative to the one translated, or to nginx's prefix, when inside them. */
  private where(d: NginxDirective): string {
    const rel = [this.baseDir, this.prefix].map((base) => path.relative(base, d.file)).find((r) => !r.startsWith(".."));
    return `${rel ?? d.file}:${d.line}`;
  }

  private yaml(config: Config, siteNotes: (string[] | undefined)[]): string {
    const doc = new Document(config);
    const header = [
      ` padlock.yaml translated by \`padlock import nginx\` from ${this.options.source}.`,
      " Read the notes, then run `padlock doctor --config padlock.yaml`.",
      "",
      ` ca: the CA certificates come from. accept_terms: you accept its terms of service`,
      " (certbot asked for the same when it registered your account).",
    ];
    if (this.certbotFolders.size) {
      header.push("", " Certificates: nginx used certbot's. Import them and certbot's account, so padlock orders nothing new:");
      for (const dir of this.certbotFolders) header.push(`   padlock import certbot ${dir} --config padlock.yaml          (shows the plan; add --apply to import)`);
    }
    if (this.untranslated.length) {
      header.push("", " NOT translated (do these another way, or drop them):");
      for (const n of unique(this.untranslated)) header.push(...wrap(`${n.where}: ${n.what}: ${n.why}`, "   ", "     "));
    }
    if (this.builtIn.length) {
      header.push("", " Left out because padlock does it itself:");
      const byWhy = new Map<string, Note[]>();
      for (const n of unique(this.builtIn)) byWhy.set(n.why, [...(byWhy.get(n.why) ?? []), n]);
      for (const [why, notes] of byWhy) header.push(...wrap(`${why}: ${notes.map((n) => `${n.what} (${n.where})`).join("; ")}`, "   - ", "     "));
    }
    doc.commentBefore = header.join("\n");
    const sites = doc.get("sites", true) as YAMLSeq;
    config.sites.forEach((_, i) => {
      const node = sites.items[i] as YAMLMap;
      const notes = siteNotes[i];
      if (notes) node.commentBefore = notes.map((n) => ` ${n}`).join("\n");
      const hosts = node.get("hosts", true);
      if (isSeq(hosts)) hosts.flow = true;
      const routes = node.get("routes", true);
      if (isSeq(routes)) for (const r of routes.items) if (isMap(r)) r.flow = true;
    });
    return doc.toString({ lineWidth: 0 });
  }
}

const SITE_KEYS = ["hosts", "canonical", "default", "blog", "static", "proxy", "redirect", "routes", "preserve_host", "timeout", "max_body", "headers", "hsts", "http"];

/** A site's keys in the order people read them: names, what it serves, then options. */
function inKeyOrder(site: SiteConfig): SiteConfig {
  return Object.fromEntries(SITE_KEYS.filter((k) => k in site).map((k) => [k, site[k]])) as SiteConfig;
}

/** Each note once (an included snippet is read once per include). */
function unique(notes: Note[]): Note[] {
  const seen = new Set<string>();
  return notes.filter((n) => {
    const key = `${n.where} ${n.what} ${n.why}`;
    return !seen.has(key) && (seen.add(key), true);
  });
}

/** A long comment line cut at spaces into lines of at most 110 characters. */
function wrap(text: string, first: string, rest: string): string[] {
  const lines: string[] = [];
  let line = first;
  for (const word of text.split(" ")) {
    if (line.length + word.length > 110 && line.trim() !== "" && line !== first) {
      lines.push(line.trimEnd());
      line = rest;
    }
    line += word + " ";
  }
  lines.push(line.trimEnd());
  return lines;
}

/** The forwarding headers padlock sends, and the nginx values that mean the same. */
const FORWARDING: Record<string, { values: string[]; sends: string; why: string }> = {
  "x-forwarded-for": { values: ["$proxy_add_x_forwarded_for", "$remote_addr"], sends: "padlock sends X-Forwarded-For itself, ending in the client padlock determined", why: "padlock sends X-Forwarded-For itself (ending in the client's address)" },
  "x-real-ip": { values: ["$remote_addr"], sends: "padlock sends X-Real-IP itself, with the client's address", why: "padlock sends X-Real-IP itself" },
  "x-forwarded-proto": { values: ["$scheme", "https"], sends: "padlock sends X-Forwarded-Proto itself, with the scheme the visitor used", why: "padlock sends X-Forwarded-Proto itself" },
  "x-forwarded-host": { values: ["$host", "$http_host", "$server_name"], sends: "padlock sends X-Forwarded-Host itself, with the host the visitor asked for", why: "padlock sends X-Forwarded-Host itself" },
  "x-forwarded-port": { values: [], sends: "padlock sends no X-Forwarded-Port (X-Forwarded-Proto and X-Forwarded-Host say the same)", why: "" },
  forwarded: { values: [], sends: "padlock sends an RFC 7239 Forwarded field itself", why: "" },
};

/** Settings a location inherits from its server and the http block. */
function isInherited(d: NginxDirective): boolean {
  return !d.block && (d.name.startsWith("proxy_") && d.name !== "proxy_pass" || d.name === "client_max_body_size");
}

function parseListen(args: string[]): Listen {
  const address = args[0] ?? "80";
  const port = /^\d+$/.test(address) ? Number(address) : Number(/:(\d+)$/.exec(address)?.[1] ?? 80);
  return { port, ssl: args.includes("ssl"), default: args.includes("default_server") || args.includes("default") };
}

function ports(s: Server): string {
  return [...new Set(s.listens.map((l) => l.port))].join(", ");
}

/** The server answers every request with a redirect (besides the ACME challenge): to HTTPS on the same name, or to another host. */
function redirectOnly(s: Server): RedirectKind {
  const block = s.d.block!;
  const target = redirectTarget(s);
  if (!target) return undefined;
  const others = block.filter((d) => !["listen", "server_name", "return", "location", "access_log", "error_log", "include"].includes(d.name) && !(d.name in BUILT_IN) && !d.name.startsWith("ssl_"));
  const locations = block.filter((d) => d.name === "location");
  const onlyRedirect = locations.every((l) => l.args.at(-1) === "/" || l.args.at(-1)?.startsWith("/.well-known/acme-challenge"));
  if (others.length || !onlyRedirect) return undefined;
  const m = /^(https?):\/\/([^/]+)\$request_uri$/.exec(target);
  if (!m) return undefined;
  const host = m[2]!;
  if (m[1] === "https" && (host === "$host" || host === "$server_name" || host === "$http_host" || s.names.includes(host))) return { kind: "https" };
  if (host.includes("$")) return undefined;
  return { kind: "host", target: `${m[1]}://${host}` };
}

/** The target of the server's redirect: its own `return 30x URL`, or that of its `location /`. */
function redirectTarget(s: Server): string | undefined {
  const block = s.d.block!;
  const own = block.find((d) => d.name === "return");
  const slash = block.find((d) => d.name === "location" && d.args.length === 1 && d.args[0] === "/")?.block?.find((d) => d.name === "return");
  const ret = own ?? slash;
  if (!ret || !REDIRECT_CODES.has(ret.args[0] ?? "")) return undefined;
  return ret.args[1];
}

/** A catch-all server that answers every request with an error (return 444, 404, 403…). */
function refusesAll(s: Server): boolean {
  const catchAll = s.names.length === 0 || s.names.every((n) => n === "_" || n === "") || s.listens.some((l) => l.default);
  const ret = s.d.block!.find((d) => d.name === "return");
  return catchAll && ret !== undefined && /^(4\d\d|444)$/.test(ret.args[0] ?? "") && !s.d.block!.some((d) => d.name === "location" || d.name === "proxy_pass" || d.name === "root");
}

function plainTryFiles(args: string[]): boolean {
  return args.every((a) => a === "$uri" || a === "$uri/" || a === "=404" || a === "$uri/index.html" || a === "$uri.html");
}

/** client_max_body_size as padlock's max_body; undefined for nginx's 0 (no limit) or none set. */
function bodySize(settings: NginxDirective[]): string | undefined {
  const d = [...settings].reverse().find((x) => x.name === "client_max_body_size");
  const m = d && /^(\d+)([kKmMgG]?)$/.exec(d.args[0] ?? "");
  if (!m || m[1] === "0") return undefined;
  return `${m[1]}${m[2] ? `${m[2].toLowerCase()}b` : ""}`;
}

/** nginx times: 60, 60s, 5m, 1h, 1m30s → seconds. */
function parseSeconds(value: string | undefined): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value)) return Number(value);
  const units: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400 };
  let total = 0;
  const re = /(\d+)(ms|s|m|h|d)/g;
  let consumed = 0;
  for (let m = re.exec(value); m; m = re.exec(value)) {
    total += Number(m[1]) * units[m[2]!]!;
    consumed += m[0].length;
  }
  return consumed === value.length && consumed > 0 ? total : undefined;
}

function describe(d: NginxDirective): string {
  const text = [d.name, ...d.args.map((a) => (/[\s;{}]/.test(a) || a === "" ? JSON.stringify(a) : a))].join(" ");
  return d.block ? `${text} { … }` : text;
}
