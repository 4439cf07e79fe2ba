// The internal CA: root created once and kept (0600), a chain that openssl and curl accept for
// localhost, *.localhost, 127.0.0.1 and ::1, the intermediate re-signed before it expires.
import test, { after } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { X509Certificate, createPrivateKey } from "node:crypto";
import { readFile, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { LOCAL_NAMES } from "../../src/config/certificate-source.js";
import { InternalCa, InternalCaError, LEAF_LIFETIME_MS } from "../../src/tls/internal-ca.js";
import { FolderKeyFileStore } from "../../src/tls/key-files.js";
import { startHttpsServer } from "../support/https-server.js";
import { tempDir } from "../support/env.js";
import { FakeClock } from "../support/fake-clock.js";

const run = promisify(execFile);
const tmp = tempDir("internal-ca");
const scratch = tmp.dir;

after(async () => {
  tmp.remove();
});

function freshDir(name: string): string {
  return path.join(scratch, name);
}

async function mode(file: string): Promise<number> {
  return (await stat(file)).mode & 0o777;
}

test("the root is created once, stored with its key 0600, and reused", async () => {
  const dir = freshDir("once");
  const first = await InternalCa.open(new FolderKeyFileStore(dir));
  assert.equal(await mode(path.join(dir, "root.pem")), 0o600);
  assert.equal(await mode(path.join(dir, "intermediate.pem")), 0o600);
  assert.equal(await mode(first.rootCertificatePath), 0o644);
  assert.equal(await readFile(first.rootCertificatePath, "utf8"), first.rootCertificatePem);
  assert.doesNotMatch(await readFile(first.rootCertificatePath, "utf8"), /PRIVATE KEY/);

  const rootFileBefore = await readFile(path.join(dir, "root.pem"), "utf8");
  const second = await InternalCa.open(new FolderKeyFileStore(dir));
  assert.equal(second.rootFingerprint, first.rootFingerprint);
  assert.equal(second.intermediateCertificatePem, first.intermediateCertificatePem);
  assert.equal(await readFile(path.join(dir, "root.pem"), "utf8"), rootFileBefore);

  const root = new X509Certificate(first.rootCertificatePem);
  assert.equal(root.ca, true);
  assert.equal(root.fingerprint256, first.rootFingerprint);
  assert.equal(root.publicKey.asymmetricKeyDetails?.namedCurve, "prime256v1");
});

test("two processes opening an empty folder at once end up with one root", async () => {
  const dir = freshDir("race");
  const [a, b] = await Promise.all([InternalCa.open(new FolderKeyFileStore(dir)), InternalCa.open(new FolderKeyFileStore(dir))]);
  assert.equal(a.rootFingerprint, b.rootFingerprint);
  const reopened = await InternalCa.open(new FolderKeyFileStore(dir));
  assert.equal(reopened.rootFingerprint, a.rootFingerprint);
});

test("a leaf for the local names chains to the root (openssl verify, purpose sslserver) with the right extensions", async () => {
  const dir = freshDir("verify");
  const ca = await InternalCa.open(new FolderKeyFileStore(dir));
  const names = [...LOCAL_NAMES, "blog.localhost", "blog.internal"];
  const leaf = await ca.issue(names);
  await writeFile(path.join(dir, "leaf.crt"), leaf.certificatePem);
  await writeFile(path.join(dir, "intermediate.crt"), ca.intermediateCertificatePem);
  const { stdout } = await run("openssl", [
    "verify",
    "-purpose", "sslserver",
    "-CAfile", ca.rootCertificatePath,
    "-untrusted", path.join(dir, "intermediate.crt"),
    path.join(dir, "leaf.crt"),
  ]);
  assert.match(stdout, /leaf\.crt: OK/);

  const certificate = new X509Certificate(leaf.certificatePem);
  assert.equal(certificate.ca, false);
  assert.equal(certificate.subjectAltName, "DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1, DNS:blog.localhost, DNS:blog.internal");
  assert.ok(certificate.checkPrivateKey(createPrivateKey(leaf.keyPem)));
  assert.ok(leaf.notAfter.getTime() - Date.now() <= LEAF_LIFETIME_MS);
  assert.equal(new Date(certificate.validTo).getTime(), Math.floor(leaf.notAfter.getTime() / 1000) * 1000);
  const text = (await run("openssl", ["x509", "-noout", "-text", "-in", path.join(dir, "leaf.crt")])).stdout;
  assert.match(text, /Extended Key Usage: *\n *TLS Web Server Authentication/);
  assert.match(text, /Basic Constraints: critical\n *CA:FALSE/);
  assert.match(text, /Subject Key Identifier/);
  assert.match(text, /Authority Key Identifier/);
});

test("curl with --cacert <root> fetches https://localhost, blog.localhost, 127.0.0.1 and [::1]; without it, it refuses", async () => {
  const dir = freshDir("curl");
  const ca = await InternalCa.open(new FolderKeyFileStore(dir));
  const leaf = await ca.issue([...LOCAL_NAMES, "blog.localhost"]);
  const v4 = await startHttpsServer({ chainPem: leaf.chainPem, keyPem: leaf.keyPem, host: "127.0.0.1", body: "hello over v4" });
  const v6 = await startHttpsServer({ chainPem: leaf.chainPem, keyPem: leaf.keyPem, host: "::1", body: "hello over v6" });
  try {
    const curl = (url: string, ...extra: string[]) => run("curl", ["--silent", "--show-error", "--fail", "--cacert", ca.rootCertificatePath, ...extra, url]);
    const resolve = (name: string) => ["--resolve", `${name}:${v4.port}:127.0.0.1`];
    assert.equal((await curl(`https://localhost:${v4.port}/`, ...resolve("localhost"))).stdout, "hello over v4");
    assert.equal((await curl(`https://blog.localhost:${v4.port}/`, ...resolve("blog.localhost"))).stdout, "hello over v4");
    assert.equal((await curl(`https://127.0.0.1:${v4.port}/`)).stdout, "hello over v4");
    assert.equal((await curl(`https://[::1]:${v6.port}/`)).stdout, "hello over v6");

    // A name the certificate does not cover, and a client that does not trust the root, both fail.
    await assert.rejects(curl(`https://other.test:${v4.port}/`, "--resolve", `other.test:${v4.port}:127.0.0.1`), /no alternative certificate subject name matches|SSL: no alternative/);
    const otherCa = await InternalCa.open(new FolderKeyFileStore(freshDir("curl-other")));
    await assert.rejects(
      run("curl", ["--silent", "--show-error", "--fail", "--cacert", otherCa.rootCertificatePath, `https://127.0.0.1:${v4.port}/`]),
      /certificate verify failed|unable to get local issuer certificate/,
    );
  } finally {
    await v4.close();
    await v6.close();
  }
});

test("the intermediate is re-signed before it expires, and leaves never outlive it", async () => {
  const dir = freshDir("renew");
  const ca = await InternalCa.open(new FolderKeyFileStore(dir));
  const firstIntermediate = new X509Certificate(ca.intermediateCertificatePem);

  const nearExpiry = new Date(new Date(firstIntermediate.validTo).getTime() - 10 * 24 * 3600 * 1000);
  const later = await InternalCa.open(new FolderKeyFileStore(dir), { clock: new FakeClock(nearExpiry.getTime()) });
  assert.equal(later.rootFingerprint, ca.rootFingerprint, "the root is kept");
  const renewed = new X509Certificate(later.intermediateCertificatePem);
  assert.notEqual(renewed.fingerprint256, firstIntermediate.fingerprint256);
  assert.ok(new Date(renewed.validTo) > new Date(firstIntermediate.validTo));
  assert.ok(renewed.verify(new X509Certificate(ca.rootCertificatePem).publicKey));

  const leaf = await later.issue(["localhost"]);
  assert.ok(leaf.notAfter <= new Date(renewed.validTo));
  assert.ok(new X509Certificate(leaf.certificatePem).verify(renewed.publicKey));
  // The renewed intermediate is what is stored now.
  const reopened = await InternalCa.open(new FolderKeyFileStore(dir), { clock: new FakeClock(nearExpiry.getTime()) });
  assert.equal(reopened.intermediateCertificatePem, later.intermediateCertificatePem);
});

test("a damaged root file is reported with its path and what to do, never replaced silently", async () => {
  const dir = freshDir("damaged");
  await InternalCa.open(new FolderKeyFileStore(dir));
  const rootFile = path.join(dir, "root.pem");
  const damaged = (await readFile(rootFile, "utf8")).replace(/-----BEGIN PRIVATE KEY-----[\s\S]*/, "");
  await writeFile(rootFile, damaged);
  await assert.rejects(InternalCa.open(new FolderKeyFileStore(dir)), (err: unknown) => {
    assert.ok(err instanceof InternalCaError);
    assert.match(err.message, new RegExp(`${rootFile.replace(/[.]/g, "\\.")} is damaged`));
    assert.match(err.message, /padlock trust --install/);
    return true;
  });
  assert.equal(await readFile(rootFile, "utf8"), damaged);
});

test("names that are neither DNS names nor IP addresses are refused", async () => {
  const ca = await InternalCa.open(new FolderKeyFileStore(freshDir("names")));
  await assert.rejects(ca.issue(["bad name"]), /"bad name" is neither a DNS name nor an IP address/);
  await assert.rejects(ca.issue([]), /at least one name/);
});
