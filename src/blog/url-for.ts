// url_for(endpoint, **args) as the Flask blog has it: the blog's own endpoints plus the routes a
// site names in its config. Values are percent-encoded like Werkzeug, except "/" (so a tag or
// name containing one still routes).
export class UnknownEndpointError extends Error {
  constructor(readonly endpoint: string, known: string[]) {
    super(`url_for('${endpoint}'): no such endpoint; known: ${known.join(", ")} (a route of your app needs \`name: ${endpoint}\` in the config's routes)`);
    this.name = "UnknownEndpointError";
  }
}

export class UrlArgumentError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UrlArgumentError";
  }
}

type Args = Record<string, unknown>;

const BUILT_IN: Record<string, (args: Args) => string> = {
  index: () => "/",
  about: () => "/about",
  posts: () => "/posts/",
  post: (args) => `/posts/${encodePathSegment(required(args, "post", "name"))}/`,
  tag: (args) => `/tag/${encodePathSegment(required(args, "tag", "tag"))}/`,
  // Flask gives "/static//x" for filename="/x"; one slash is what was meant.
  static: (args) => `/static/${encodePath(required(args, "static", "filename").replace(/^\/+/, ""))}`,
  pygments_css: () => "/pygments.css",
  feed: () => "/feed.xml",
  sitemap: () => "/sitemap.xml",
};

/** The argument each endpoint consumes; anything else goes to the query string, as in Flask. */
const CONSUMED: Record<string, string> = { post: "name", tag: "tag", static: "filename" };

export class UrlBuilder {
  constructor(private readonly namedRoutes: Record<string, string> = {}) {}

  get endpoints(): string[] {
    return [...Object.keys(BUILT_IN), ...Object.keys(this.namedRoutes)];
  }

  build(endpoint: string, args: Args = {}): string {
    const builtIn = Object.hasOwn(BUILT_IN, endpoint) ? BUILT_IN[endpoint] : undefined;
    const named = Object.hasOwn(this.namedRoutes, endpoint) ? this.namedRoutes[endpoint] : undefined;
    if (!builtIn && named === undefined) throw new UnknownEndpointError(endpoint, this.endpoints);
    const base = builtIn ? builtIn(args) : named!;
    const query: string[] = [];
    let anchor = "";
    for (const [key, value] of Object.entries(args)) {
      if (key === "__keywords" || key === CONSUMED[endpoint] || value == null) continue;
      if (key === "_anchor") anchor = `#${encodePath(String(value))}`;
      else if (!key.startsWith("_")) query.push(`${encodeURIComponent(key)}=${encodeURIComponent(String(value))}`);
    }
    return base + (query.length ? `?${query.join("&")}` : "") + anchor;
  }
}

function required(args: Args, endpoint: string, name: string): string {
  const value = args[name];
  if (value == null || String(value) === "") throw new UrlArgumentError(`url_for('${endpoint}') needs ${name}=...`);
  return String(value);
}

// Werkzeug leaves these as they are in paths: ! $ & ' ( ) * + , ; = : @ (and unreserved).
const KEEP = /%(21|24|26|27|28|29|2A|2B|2C|3B|3D|3A|40)/g;

export function encodePathSegment(value: string): string {
  return encodeURIComponent(value).replace(KEEP, (m) => decodeURIComponent(m));
}

export function encodePath(value: string): string {
  return value.split("/").map(encodePathSegment).join("/");
}
