// The HTTPS listener with a Pebble-issued certificate: TLS 1.2 and 1.3 only, ALPN h2 and
// http/1.1, session resumption, and the default site's certificate for clients without SNI.
import test from "node:test";
import assert from "node:assert/strict";
import tls from "node:tls";
import { execFile } from "node:child_process";
import { freePort, tempDir, waitFor } from "../support/env.js";
import { startPebble } from "../support/pebble.js";
import { loadConfigIn, startPadlock } from "../support/padlock-in-process.js";

function connect(port: number, options: tls.ConnectionOptions): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: "127.0.0.1", port, ...options }, () => resolve(socket));
    socket.once("error", reject);
  });
}

function opensslHandshake(port: number, flags: string[]): Promise<string> {
  return new Promise((resolve) => {
    const child = execFile("openssl", ["s_client", "-connect", `127.0.0.1:${port}`, "-servername", "blog.test", "-cipher", "DEFAULT@SECLEVEL=0", ...flags], { timeout: 10_000 }, (_err, stdout, stderr) =>
      resolve(stdout + stderr),
    );
    child.stdin!.end();
  });
}

test("TLS: versions, ALPN, resumption, no-SNI default", async (t) => {
  const httpPort = await freePort();
  const pebble = await startPebble({ httpPort });
  t.after(() => pebble.stop());
  const work = tempDir("tls");
  t.after(() => work.remove());
  const p = await startPadlock(loadConfigIn(work.dir, { ca: pebble.directoryUrl, ca_root: pebble.apiRootFile, accept_terms: true, storage: "data", sites: [{ hosts: ["blog.test", "www.blog.test"], redirect: "https://x.test" }] }), { baseDir: work.dir, httpPort });
  t.after(() => p.close());
  const serial = await waitFor("the certificate", () => p.padlock.certificateManager!.status()[0]!.serial, 30_000);
  const ca = await pebble.issuingRoot();
  const port = p.httpsPort;

  const h2 = await connect(port, { servername: "blog.test", ca, ALPNProtocols: ["h2", "http/1.1"] });
  assert.equal(h2.alpnProtocol, "h2");
  assert.equal(h2.getProtocol(), "TLSv1.3");
  h2.end();
  const h1 = await connect(port, { servername: "blog.test", ca, ALPNProtocols: ["http/1.1"] });
  assert.equal(h1.alpnProtocol, "http/1.1");
  h1.end();

  // The client's order decides (both suites are under the policy).
  assert.match(await opensslHandshake(port, ["-tls1_2", "-cipher", "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-ECDSA-AES128-GCM-SHA256"]), /New, TLSv1\.2, Cipher is ECDHE-ECDSA-CHACHA20-POLY1305/);
  assert.match(await opensslHandshake(port, ["-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-CHACHA20-POLY1305"]), /New, TLSv1\.2, Cipher is ECDHE-ECDSA-AES128-GCM-SHA256/);
  for (const old of ["-tls1", "-tls1_1"]) {
    const out = await opensslHandshake(port, [old]);
    assert.match(out, /no peer certificate available[\s\S]*Cipher is \(NONE\)/, `${old} must be refused:\n${out}`);
  }

  // Session resumption, TLS 1.3 (tickets) and TLS 1.2.
  for (const maxVersion of ["TLSv1.3", "TLSv1.2"] as const) {
    const first = await connect(port, { servername: "blog.test", ca, maxVersion });
    const session = await new Promise<Buffer>((resolve) => {
      if (maxVersion === "TLSv1.2") resolve(first.getSession()!);
      else first.once("session", resolve);
    });
    first.end();
    const second = await connect(port, { servername: "blog.test", ca, maxVersion, session });
    assert.equal(second.isSessionReused(), true, `${maxVersion} session resumed`);
    second.end();
  }

  // A client without SNI gets the default site's certificate.
  const noSni = await connect(port, { ca, checkServerIdentity: () => undefined });
  assert.equal(noSni.getPeerCertificate().serialNumber, serial);
  assert.equal(noSni.authorized, true);
  noSni.end();
});
