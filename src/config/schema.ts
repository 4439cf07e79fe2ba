// The one source of truth for padlock.yaml: TypeScript types, runtime validation and the
// published JSON Schema (schema/padlock.schema.json) all come from these definitions.
import { Type, type Static, type TSchema } from "@sinclair/typebox";

const doc = <T extends TSchema>(description: string, schema: T): T =>
  ({ ...schema, description }) as T;

export const HostName = doc(
  "A DNS name (example.com), a wildcard (*.example.com), localhost or an IP address",
  Type.String({ minLength: 1, maxLength: 253 }),
);

export const ChallengeType = Type.Union(
  [Type.Literal("http-01"), Type.Literal("tls-alpn-01"), Type.Literal("dns-01")],
  { description: "An ACME challenge type" },
);

export const KeyType = Type.Union(
  [Type.Literal("ecdsa-p256"), Type.Literal("ecdsa-p384"), Type.Literal("rsa2048"), Type.Literal("rsa3072"), Type.Literal("rsa4096")],
  { description: "Private key type of the certificate (default ecdsa-p256)" },
);

const Nameservers = doc(
  "Authoritative servers (host:port) that must show the TXT record before the CA is asked (default: the zone's NS records, found through resolver:)",
  Type.Array(Type.String({ minLength: 1 }), { minItems: 1 }),
);

export const DnsProvider = Type.Union([
  Type.Object(
    {
      provider: Type.Literal("rfc2136"),
      server: doc("Authoritative DNS server, host:port", Type.String()),
      zone: Type.Optional(doc("Zone to update (default: found from the SOA)", Type.String())),
      tsig_name: Type.String(),
      tsig_algorithm: Type.Optional(
        doc(
          "TSIG algorithm (default hmac-sha256)",
          Type.Union(["hmac-sha256", "hmac-sha512", "hmac-sha384", "hmac-sha224", "hmac-sha1"].map((a) => Type.Literal(a))),
        ),
      ),
      tsig_secret: doc("Base64 TSIG secret", Type.String({ pattern: "^[A-Za-z0-9+/]+={0,2}$" })),
      transport: Type.Optional(doc("Send updates over udp (default, TCP when truncated) or tcp", Type.Union([Type.Literal("udp"), Type.Literal("tcp")]))),
      nameservers: Type.Optional(Nameservers),
    },
    { additionalProperties: false },
  ),
  Type.Object(
    {
      provider: Type.Literal("exec"),
      command: doc("Command run by /bin/sh as: COMMAND add|remove NAME VALUE, from the config file's folder", Type.String({ minLength: 1 })),
      nameservers: Type.Optional(Nameservers),
    },
    { additionalProperties: false },
  ),
], {
  description:
    "A DNS provider: { provider: rfc2136, server: host:port, tsig_name, tsig_secret (base64), optional zone, tsig_algorithm, transport, nameservers } " +
    "or { provider: exec, command, optional nameservers }",
});

export const Upstreams = doc(
  "Upstream URL, or several (round-robin with passive health checks)",
  Type.Union([Type.String({ pattern: "^(http|https|ws|wss)://" }), Type.Array(Type.String({ pattern: "^(http|https|ws|wss)://" }), { minItems: 1 })]),
);

const ProxyOptions = {
  preserve_host: Type.Optional(doc("Send the client's Host upstream (default true)", Type.Boolean())),
  timeout: Type.Optional(doc("Upstream response timeout in seconds (default 60)", Type.Number({ exclusiveMinimum: 0 }))),
  max_body: Type.Optional(doc("Largest request body accepted, e.g. 10mb (default unlimited)", Type.Union([Type.String(), Type.Integer({ minimum: 0 })]))),
};

export const Route = Type.Object(
  {
    path: doc("URL path prefix this route answers, e.g. /dp_sim/", Type.String({ pattern: "^/" })),
    name: Type.Optional(doc("Endpoint name, usable in templates as url_for('NAME')", Type.String({ pattern: "^[A-Za-z_][A-Za-z0-9_]*$" }))),
    proxy: Type.Optional(Upstreams),
    static: Type.Optional(doc("Folder served under this path", Type.String())),
    redirect: Type.Optional(doc("Redirect target URL", Type.String())),
    ...ProxyOptions,
  },
  { additionalProperties: false },
);

export const Site = Type.Object(
  {
    hosts: doc("Host names this site answers; one certificate covers them all", Type.Array(HostName, { minItems: 1 })),
    blog: Type.Optional(doc("A blog folder with content/, templates/ and static/", Type.String())),
    static: Type.Optional(doc("A folder of static files", Type.String())),
    proxy: Type.Optional(Upstreams),
    redirect: Type.Optional(doc("Redirect every request to this URL (path and query kept)", Type.String())),
    routes: Type.Optional(Type.Array(Route)),
    default: Type.Optional(doc("Serve requests for hosts no site lists, and give its certificate to handshakes without SNI (default: no site answers unknown hosts; handshakes without SNI get the first certificate installed among the sites, in config order)", Type.Boolean())),
    canonical: Type.Optional(doc("Redirect www to the apex or the apex to www", Type.Union([Type.Literal("www"), Type.Literal("apex")]))),
    http: Type.Optional(doc("What plain HTTP does besides ACME challenges (default redirect when TLS is on)", Type.Union([Type.Literal("redirect"), Type.Literal("serve")]))),
    headers: Type.Optional(doc("Extra response headers", Type.Record(Type.String(), Type.String()))),
    hsts: Type.Optional(
      Type.Union([
        doc("true: on with max-age one year (the default when the site has TLS); false: off", Type.Boolean()),
        Type.Object(
          {
            max_age: Type.Optional(doc("Seconds browsers remember to use HTTPS only (default 31536000, one year)", Type.Integer({ minimum: 0 }))),
            include_subdomains: Type.Optional(doc("Apply to every subdomain too (default false)", Type.Boolean())),
            preload: Type.Optional(doc("Ask to be on browsers' preload list (needs include_subdomains and max_age >= 31536000)", Type.Boolean())),
          },
          { additionalProperties: false },
        ),
      ]),
    ),
    tls: Type.Optional(
      Type.Object(
        {
          enabled: Type.Optional(doc("Get certificates for this site (default true unless no CA)", Type.Boolean())),
          key_type: Type.Optional(KeyType),
          profile: Type.Optional(doc("ACME profile the CA advertises (e.g. classic, tlsserver, shortlived)", Type.String())),
          challenges: Type.Optional(doc("Allowed challenges, in order of preference", Type.Array(ChallengeType, { minItems: 1 }))),
          dns: Type.Optional(DnsProvider),
          internal: Type.Optional(doc("Use padlock's internal CA for this site", Type.Boolean())),
          certificate: Type.Optional(doc("A certificate you bring: PEM file with the certificate and its chain (padlock serves it, reloads it when it changes, never orders for this site)", Type.String({ minLength: 1 }))),
          key: Type.Optional(doc("The private key (PEM) of tls.certificate", Type.String({ minLength: 1 }))),
        },
        { additionalProperties: false },
      ),
    ),
    ...ProxyOptions,
  },
  { additionalProperties: false },
);

export const Config = Type.Object(
  {
    $schema: Type.Optional(Type.String()),
    email: Type.Optional(doc("ACME account contact", Type.String({ format: "email" }))),
    ca: Type.Optional(doc("letsencrypt | letsencrypt-staging | zerossl | internal | an ACME directory URL", Type.String({ minLength: 1 }))),
    ca_root: Type.Optional(doc("PEM file of an extra root trusted for the CA's API (Pebble, a private CA)", Type.String())),
    accept_terms: Type.Optional(doc("You accept the CA's terms of service", Type.Boolean())),
    eab: Type.Optional(
      Type.Object({ kid: Type.String(), hmac_key: Type.String() }, { additionalProperties: false, description: "External Account Binding (ZeroSSL)" }),
    ),
    staging_rehearsal: Type.Optional(doc("Try a first issuance against staging before production (default true; happens when padlock knows the CA's staging directory, or staging: names it)", Type.Boolean())),
    staging: Type.Optional(doc("ACME directory URL of the CA's staging environment, for staging_rehearsal (Let's Encrypt's is known)", Type.String({ pattern: "^https?://" }))),
    order_budget: Type.Optional(
      Type.Object(
        {
          orders_per_week: Type.Optional(
            doc("Most orders for one exact set of names in any 7 days (default: the CA's published limit, 5 for letsencrypt and 30000 for letsencrypt-staging, which this can only lower; 20 for other CAs)", Type.Integer({ minimum: 1 })),
          ),
          failed_validations_per_hour: Type.Optional(
            doc("Most failed validations of one name in any hour (default: the CA's published limit, 5 for letsencrypt and 200 for letsencrypt-staging, which this can only lower; 10 for other CAs)", Type.Integer({ minimum: 1 })),
          ),
        },
        { additionalProperties: false, description: "How many orders padlock may place, counted in storage so that no restart loop can spend more" },
      ),
    ),
    storage: Type.Optional(
      doc(
        "Folder for certificates and keys, or Redis shared by several instances: redis://[user[:password]@]host[:port][/db][?prefix=…&lock_lease=…], rediss://…?ca_file=… for TLS (password also from $PADLOCK_REDIS_PASSWORD)",
        Type.String({ minLength: 1 }),
      ),
    ),
    storage_key: Type.Optional(
      doc("Encrypts private keys in storage (AES-256-GCM): 32 random bytes as base64 or hex (openssl rand -base64 32); better from $PADLOCK_STORAGE_KEY. Never stored", Type.String({ minLength: 1 })),
    ),
    resolver: Type.Optional(doc("DNS server padlock asks when it checks names itself (DNS-01 propagation, padlock doctor, explaining a failed challenge), IP:port; default the system's", Type.String({ minLength: 1 }))),
    user: Type.Optional(doc("Drop to this user after binding ports when started as root", Type.String())),
    listen: Type.Optional(doc("Address to listen on (default all)", Type.String())),
    http_port: Type.Optional(Type.Integer({ minimum: 0, maximum: 65535 })),
    https_port: Type.Optional(Type.Integer({ minimum: 0, maximum: 65535 })),
    unknown_host: Type.Optional(doc("Status for requests to hosts no site serves (default 404 over HTTP, 421 over HTTPS)", Type.Union([Type.Literal(421), Type.Literal(404)]))),
    redirect_status: Type.Optional(Type.Union([Type.Literal(301), Type.Literal(308)])),
    trusted_proxies: Type.Optional(doc("CIDRs whose X-Forwarded-* and Forwarded headers are believed", Type.Array(Type.String()))),
    log: Type.Optional(
      Type.Object(
        {
          level: Type.Optional(Type.Union(["trace", "debug", "info", "warn", "error"].map((l) => Type.Literal(l)))),
          access: Type.Optional(doc("Access log format", Type.Union([Type.Literal("json"), Type.Literal("common"), Type.Literal("off")]))),
        },
        { additionalProperties: false },
      ),
    ),
    limits: Type.Optional(
      Type.Object(
        {
          header_size: Type.Optional(doc("Largest request head in bytes (default 16384)", Type.Integer({ minimum: 1024 }))),
          header_count: Type.Optional(doc("Most request header fields (default 100)", Type.Integer({ minimum: 1 }))),
          headers_timeout: Type.Optional(doc("Seconds a client has to send its request head (default 30)", Type.Number({ exclusiveMinimum: 0 }))),
          request_timeout: Type.Optional(doc("Seconds a client has to send a whole request, body included (default 300; 0 = no limit)", Type.Number({ minimum: 0 }))),
          idle_timeout: Type.Optional(doc("Seconds an idle keep-alive connection or HTTP/2 session stays open (default 60)", Type.Number({ exclusiveMinimum: 0 }))),
          h2_max_streams: Type.Optional(doc("Concurrent streams per HTTP/2 connection (default 128)", Type.Integer({ minimum: 1 }))),
          shutdown_timeout: Type.Optional(doc("Seconds requests in flight get to finish on shutdown (default 10)", Type.Number({ minimum: 0 }))),
        },
        { additionalProperties: false },
      ),
    ),
    metrics: Type.Optional(
      Type.Object(
        {
          listen: doc("Prometheus endpoint address, HOST:PORT (e.g. 127.0.0.1:9190); loopback only unless allow_remote", Type.String()),
          allow_remote: Type.Optional(doc("Allow a listen address other machines can reach (default false)", Type.Boolean())),
        },
        { additionalProperties: false, description: "Prometheus metrics at /metrics (off unless set)" },
      ),
    ),
    admin: Type.Optional(
      Type.Object(
        {
          socket: Type.Optional(doc("Unix socket `padlock certs` talks to (default: admin.sock in the storage folder)", Type.String())),
          listen: Type.Optional(doc("Loopback HOST:PORT for the admin endpoint instead of a socket (token in admin.token in storage)", Type.String())),
        },
        { additionalProperties: false },
      ),
    ),
    alerts: Type.Optional(
      Type.Object(
        {
          webhook: Type.Optional(doc("URL that gets each alert as a JSON POST", Type.String({ pattern: "^https?://" }))),
          command: Type.Optional(doc("Shell command run for each alert, with PADLOCK_EVENT, PADLOCK_NAMES, PADLOCK_MESSAGE, PADLOCK_PROBLEM, PADLOCK_FIX", Type.String({ minLength: 1 }))),
        },
        { additionalProperties: false, description: "Who hears of renewal failures, certificates near expiry and rate limits" },
      ),
    ),
    sites: Type.Array(Site, { minItems: 1 }),
  },
  { additionalProperties: false, title: "padlock configuration" },
);

export type Config = Static<typeof Config>;
export type Site = Static<typeof Site>;
export type Route = Static<typeof Route>;
export type DnsProvider = Static<typeof DnsProvider>;
export type ChallengeType = Static<typeof ChallengeType>;
export type KeyType = Static<typeof KeyType>;
