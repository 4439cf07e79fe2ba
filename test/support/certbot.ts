// certbot's folder, two ways: filled by certbot itself (Debian `certbot`) against Pebble, or
// written by hand for cases certbot cannot be asked to make (expired, revoked, mismatched
// pairs) with certificates from a throwaway CA that can publish a CRL.
import { execFile } from "node:child_process";
import { createPrivateKey, webcrypto } from "node:crypto";
import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import * as x509 from "@peculiar/x509";

const run = promisify(execFile);

export interface CertbotRun {
  /** ACME directory certbot orders from. */
  server: string;
  /** PEM file certbot trusts for the directory's TLS (REQUESTS_CA_BUNDLE). */
  caBundle: string;
  /** The port the CA connects to for HTTP-01: certbot's standalone server listens there. */
  httpPort: number;
  /** certbot's --config-dir; work and log folders go beside it. */
  configDir: string;
}

/** `certbot certonly --standalone` with `args` (-d NAME…, --cert-name, --duplicate); resolves to its output. */
export async function certbotCertonly(c: CertbotRun, args: string[]): Promise<string> {
  const beside = path.dirname(c.configDir);
  try {
    const { stdout, stderr } = await run(
      "certbot",
      [
        "certonly", "--non-interactive", "--standalone", "--http-01-address", "127.0.0.1", "--http-01-port", String(c.httpPort),
        "--server", c.server, "--agree-tos", "--register-unsafely-without-email", "--no-random-sleep-on-renew",
        "--config-dir", c.configDir, "--work-dir", path.join(beside, "certbot-work"), "--logs-dir", path.join(beside, "certbot-logs"),
        ...args,
      ],
      { env: { ...process.env, REQUESTS_CA_BUNDLE: c.caBundle } },
    );
    return stdout + stderr;
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`certbot ${args.join(" ")} failed: ${e.message}\n${e.stdout ?? ""}${e.stderr ?? ""}`);
  }
}

const SIGNING = { name: "ECDSA", hash: "SHA-256" } as const;
const DAY = 86_400_000;

export interface TestCaCertificate {
  chainPem: string;
  keyPem: string;
  /** Hex, as x509 tools print it. */
  serial: string;
}

/** A CA (root signing leaves directly) that issues certificates of any dates and publishes a CRL. */
export class TestCa {
  private constructor(
    private readonly keys: CryptoKeyPair,
    readonly certificate: x509.X509Certificate,
  ) {}

  static async create(name = "padlock import test CA"): Promise<TestCa> {
    const keys = await generate("ecdsa-p256");
    const certificate = await x509.X509CertificateGenerator.createSelfSigned(
      {
        serialNumber: serial(),
        name: `CN=${name}`,
        notBefore: new Date(Date.now() - 400 * DAY),
        notAfter: new Date(Date.now() + 400 * DAY),
        keys,
        signingAlgorithm: SIGNING,
        extensions: [new x509.BasicConstraintsExtension(true, 0, true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true), await x509.SubjectKeyIdentifierExtension.create(keys.publicKey)],
      },
      webcrypto as Crypto,
    );
    return new TestCa(keys, certificate);
  }

  /** A leaf for `names`, valid from `from` to `until` (default: issued 10 days ago, for 90 days). */
  async issue(names: string[], o: { from?: Date; until?: Date; crl?: string; key?: "ecdsa-p256" | "rsa2048" } = {}): Promise<TestCaCertificate> {
    const keys = await generate(o.key ?? "ecdsa-p256");
    const notBefore = o.from ?? new Date(Date.now() - 10 * DAY);
    const leaf = await x509.X509CertificateGenerator.create(
      {
        serialNumber: serial(),
        subject: `CN=${names[0]}`,
        issuer: this.certificate.subject,
        notBefore,
        notAfter: o.until ?? new Date(notBefore.getTime() + 90 * DAY),
        publicKey: keys.publicKey,
        signingKey: this.keys.privateKey,
        signingAlgorithm: SIGNING,
        extensions: [
          new x509.BasicConstraintsExtension(false, undefined, true),
          new x509.SubjectAlternativeNameExtension(names.map((value) => ({ type: "dns" as const, value }))),
          await x509.AuthorityKeyIdentifierExtension.create(this.certificate.publicKey, false, webcrypto as Crypto),
          ...(o.crl ? [new x509.CRLDistributionPointsExtension([o.crl])] : []),
        ],
      },
      webcrypto as Crypto,
    );
    return { chainPem: leaf.toString("pem") + "\n" + this.certificate.toString("pem") + "\n", keyPem: await pem(keys.privateKey), serial: leaf.serialNumber };
  }

  /** A CRL (DER) listing `revoked` serials. */
  async crl(revoked: string[]): Promise<Buffer> {
    const crl = await x509.X509CrlGenerator.create(
      {
        issuer: this.certificate.subject,
        thisUpdate: new Date(Date.now() - DAY),
        nextUpdate: new Date(Date.now() + 7 * DAY),
        signingKey: this.keys.privateKey,
        signingAlgorithm: SIGNING,
        entries: revoked.map((serialNumber) => ({ serialNumber, revocationDate: new Date(Date.now() - DAY), reason: x509.X509CrlReason.keyCompromise })),
      },
      webcrypto as Crypto,
    );
    return Buffer.from(crl.rawData);
  }
}

export interface HandMadeLineage {
  name: string;
  server: string;
  accountId?: string;
  chainPem: string;
  keyPem: string;
}

/** A lineage as certbot lays it out: renewal/NAME.conf, archive/NAME/*1.pem, live/NAME/ links into it. */
export function writeLineage(configDir: string, l: HandMadeLineage): void {
  const archive = path.join(configDir, "archive", l.name);
  const live = path.join(configDir, "live", l.name);
  mkdirSync(archive, { recursive: true });
  mkdirSync(live, { recursive: true });
  mkdirSync(path.join(configDir, "renewal"), { recursive: true });
  const [leaf, ...rest] = l.chainPem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/g)!;
  const files = { cert: leaf!, chain: rest.join(""), fullchain: l.chainPem, privkey: l.keyPem };
  for (const [kind, content] of Object.entries(files)) {
    writeFileSync(path.join(archive, `${kind}1.pem`), content, { mode: kind === "privkey" ? 0o600 : 0o644 });
    symlinkSync(`../../archive/${l.name}/${kind}1.pem`, path.join(live, `${kind}.pem`));
  }
  writeFileSync(
    path.join(configDir, "renewal", `${l.name}.conf`),
    `# renew_before_expiry = 30 days
version = 2.1.0
archive_dir = /etc/letsencrypt/archive/${l.name}
cert = /etc/letsencrypt/live/${l.name}/cert.pem
privkey = /etc/letsencrypt/live/${l.name}/privkey.pem
chain = /etc/letsencrypt/live/${l.name}/chain.pem
fullchain = /etc/letsencrypt/live/${l.name}/fullchain.pem

# Options used in the renewal process
[renewalparams]
${l.accountId ? `account = ${l.accountId}\n` : ""}authenticator = webroot
server = ${l.server}
key_type = ecdsa
`,
  );
}

/** An account as certbot keeps it: accounts/<host>/<path>/<id>/{private_key.json,regr.json,meta.json}. */
export function writeAccount(configDir: string, server: string, id: string, o: { keyPem: string; url: string; contact?: string[] }): void {
  const u = new URL(server);
  const dir = path.join(configDir, "accounts", u.host, ...u.pathname.split("/").filter(Boolean), id);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const jwk = createPrivateKey(o.keyPem).export({ format: "jwk" });
  writeFileSync(path.join(dir, "private_key.json"), JSON.stringify(jwk), { mode: 0o400 });
  writeFileSync(path.join(dir, "regr.json"), JSON.stringify({ body: o.contact ? { contact: o.contact } : {}, uri: o.url }));
  writeFileSync(path.join(dir, "meta.json"), JSON.stringify({ creation_dt: new Date().toISOString(), creation_host: "test" }));
}

async function generate(type: "ecdsa-p256" | "rsa2048"): Promise<CryptoKeyPair> {
  const algorithm = type === "rsa2048" ? { name: "RSASSA-PKCS1-v1_5", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" } : { name: "ECDSA", namedCurve: "P-256" };
  return (await webcrypto.subtle.generateKey(algorithm, true, ["sign", "verify"])) as CryptoKeyPair;
}

async function pem(key: CryptoKey): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey("pkcs8", key));
  return createPrivateKey({ key: der, format: "der", type: "pkcs8" }).export({ type: "pkcs8", format: "pem" }).toString();
}

function serial(): string {
  const bytes = webcrypto.getRandomValues(new Uint8Array(16));
  bytes[0]! &= 0x7f;
  bytes[0]! |= 0x01;
  return Buffer.from(bytes).toString("hex");
}
