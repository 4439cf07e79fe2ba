// The Authority Key Identifier of a certificate (RFC 5280 §4.2.1.1), read from its DER. Node's
// X509Certificate parses and checks the certificate but does not expose this extension, and
// loading @peculiar/x509 for this one field cost start-up ≈20 ms (its ASN.1 schemas are
// evaluated on load), on the path to a first certificate. Only the fields leading to the
// extension are walked; anything malformed on the way is an error.

/** 2.5.29.35, the extension's OID, as DER content bytes. */
const AUTHORITY_KEY_ID_OID = Buffer.from([0x55, 0x1d, 0x23]);
const SEQUENCE = 0x30;
const OID = 0x06;
const BOOLEAN = 0x01;
const OCTET_STRING = 0x04;
const EXTENSIONS = 0xa3; // [3] EXPLICIT, in TBSCertificate
const KEY_IDENTIFIER = 0x80; // [0] IMPLICIT, in AuthorityKeyIdentifier

interface Element {
  tag: number;
  /** Where the content starts and ends (exclusive). */
  start: number;
  end: number;
}

/** The keyIdentifier bytes, or undefined when the certificate has no such extension or it holds none. */
export function authorityKeyIdentifier(der: Buffer): Buffer | undefined {
  const certificate = element(der, 0, der.length, SEQUENCE);
  const tbs = element(der, certificate.start, certificate.end, SEQUENCE);
  const extensions = children(der, tbs).find((e) => e.tag === EXTENSIONS);
  if (!extensions) return undefined;
  for (const extension of children(der, element(der, extensions.start, extensions.end, SEQUENCE))) {
    const [oid, second, third] = children(der, extension);
    if (oid?.tag !== OID || !der.subarray(oid.start, oid.end).equals(AUTHORITY_KEY_ID_OID)) continue;
    const value = second?.tag === BOOLEAN ? third : second; // `critical` is optional
    if (value?.tag !== OCTET_STRING) throw new Error("malformed Authority Key Identifier extension");
    const keyId = children(der, element(der, value.start, value.end, SEQUENCE)).find((e) => e.tag === KEY_IDENTIFIER);
    return keyId && der.subarray(keyId.start, keyId.end);
  }
  return undefined;
}

function children(der: Buffer, parent: Element): Element[] {
  const found: Element[] = [];
  for (let at = parent.start; at < parent.end; ) {
    const child = element(der, at, parent.end);
    found.push(child);
    at = child.end;
  }
  return found;
}

/** The DER element starting at `at`, which must end by `limit` (and have `tag`, when given). */
function element(der: Buffer, at: number, limit: number, tag?: number): Element {
  if (at + 2 > limit) throw new Error("truncated DER");
  const found = der[at]!;
  if (tag !== undefined && found !== tag) throw new Error(`unexpected DER tag 0x${found.toString(16)} where 0x${tag.toString(16)} belongs`);
  let length = der[at + 1]!;
  let start = at + 2;
  if (length & 0x80) {
    const bytes = length & 0x7f;
    if (bytes === 0 || bytes > 4 || start + bytes > limit) throw new Error("unsupported DER length");
    length = 0;
    for (let i = 0; i < bytes; i++) length = length * 256 + der[start++]!;
  }
  if (start + length > limit) throw new Error("DER element runs past its container");
  return { tag: found, start, end: start + length };
}
