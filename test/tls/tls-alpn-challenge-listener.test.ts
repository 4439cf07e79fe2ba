// The TLS-ALPN-01 side of the HTTPS listener without a CA: the ClientHello reader on real
// handshakes, and a listener with a pending challenge that answers `acme-tls/1` handshakes with
// an RFC 8737 certificate while other handshakes (other ALPN, other names, not TLS at all) get
// the normal TLS handling.
import test, { after, before } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import net from "node:net";
import tls from "node:tls";
import * as x509 from "@peculiar/x509";
import { parseClientHello } from "../../src/tls/client-hello.js";
import { createChallengeCertificate } from "../../src/acme/tls-alpn01-solver.js";
import { answerTlsAlpnChallenges, TlsAlpn01Challenges } from "../../src/server/tls-alpn-challenge-listener.js";
import { makeTestPki, type TestPki } from "../support/tls.js";
import { tempDir } from "../support/env.js";

const KEY_AUTHORIZATION = "token-abc.thumbprint-xyz";
const work = tempDir("tls-alpn-listener");
let ca: TestPki;
let server: tls.Server;
let port: number;
const challenges = new TlsAlpn01Challenges();

before(async () => {
  ca = makeTestPki(["localhost", "127.0.0.1"], work.dir);
  server = tls.createServer({ key: ca.key, cert: ca.cert, ALPNProtocols: ["h2", "http/1.1"] }, (socket) => socket.end("normal\n"));
  answerTlsAlpnChallenges(server, challenges);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as net.AddressInfo).port;
  const { keyPem, certPem } = await createChallengeCertificate("blog.test", KEY_AUTHORIZATION);
  challenges.publish("blog.test", keyPem, certPem);
});

after(async () => {
  await new Promise((resolve) => server.close(resolve));
  work.remove();
});

/** The first bytes a TLS client sends: its ClientHello. */
async function clientHelloBytes(options: tls.ConnectionOptions): Promise<Buffer> {
  const capture = net.createServer();
  await new Promise<void>((resolve) => capture.listen(0, "127.0.0.1", resolve));
  const received = new Promise<Buffer>((resolve) => capture.once("connection", (s) => s.once("data", (d: Buffer) => (resolve(d), s.destroy()))));
  const client = tls.connect({ host: "127.0.0.1", port: (capture.address() as net.AddressInfo).port, ...options });
  client.on("error", () => undefined);
  const bytes = await received;
  client.destroy();
  capture.close();
  return bytes;
}

test("the ClientHello reader finds the server name and the offered ALPN protocols", async () => {
  const hello = parseClientHello(await clientHelloBytes({ servername: "blog.test", ALPNProtocols: ["acme-tls/1"] }));
  assert.deepEqual(hello, { serverName: "blog.test", alpn: ["acme-tls/1"] });
  const full = await clientHelloBytes({ servername: "www.blog.test", ALPNProtocols: ["h2", "http/1.1"] });
  assert.deepEqual(parseClientHello(full), { serverName: "www.blog.test", alpn: ["h2", "http/1.1"] });
  assert.equal(parseClientHello(full.subarray(0, 40)), "incomplete");
  assert.equal(parseClientHello(Buffer.from("GET / HTTP/1.1\r\n\r\n")), "not-tls");
});

function handshake(servername: string, alpn: string[]): Promise<{ protocol: string | false | null; peer: Buffer; data: string }> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: "127.0.0.1", port, servername, ALPNProtocols: alpn, rejectUnauthorized: false }, () => {
      const result = { protocol: socket.alpnProtocol, peer: socket.getPeerX509Certificate()!.raw, data: "" };
      socket.setEncoding("utf8").on("data", (d: string) => (result.data += d));
      socket.on("end", () => resolve(result));
    });
    socket.on("error", reject);
  });
}

test("an acme-tls/1 handshake for a name with a pending challenge gets the RFC 8737 certificate", async () => {
  const answer = await handshake("blog.test", ["acme-tls/1"]);
  assert.equal(answer.protocol, "acme-tls/1");
  const cert = new x509.X509Certificate(new Uint8Array(answer.peer));
  assert.deepEqual(cert.getExtension(x509.SubjectAlternativeNameExtension)?.names.items.map((n) => n.value), ["blog.test"]);
  const ext = cert.extensions.find((e) => e.type === "1.3.6.1.5.5.7.1.31");
  assert.ok(ext, "id-pe-acmeIdentifier present");
  assert.equal(ext.critical, true);
  const digest = createHash("sha256").update(KEY_AUTHORIZATION).digest();
  assert.deepEqual(Buffer.from(ext.value), Buffer.concat([Buffer.from([0x04, 0x20]), digest]), "an OCTET STRING of SHA-256(key authorization)");
  assert.equal(answer.data, "", "no application data on a validation connection");
});

test("other handshakes on the same port get the normal certificate and protocols while the challenge is pending", async () => {
  const normalSerial = new x509.X509Certificate(ca.cert).serialNumber;
  for (const [name, protocol] of [["blog.test", "h2"], ["other.test", "h2"], ["blog.test", "http/1.1"]] as const) {
    const answer = await handshake(name, [protocol]);
    assert.equal(new x509.X509Certificate(new Uint8Array(answer.peer)).serialNumber, normalSerial, `${name} ${protocol}: the normal certificate`);
    assert.equal(answer.protocol, protocol);
    assert.equal(answer.data, "normal\n");
  }
  // acme-tls/1 for a name without a challenge goes to the normal TLS handling, which speaks no such protocol.
  await assert.rejects(handshake("other.test", ["acme-tls/1"]), /no application protocol/);
  // Bytes that are not TLS reach the TLS layer untouched (which refuses them), and the port keeps working.
  const raw = net.connect(port, "127.0.0.1");
  raw.end("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  await new Promise((resolve) => raw.on("close", resolve).on("error", resolve));
  assert.equal((await handshake("blog.test", ["h2"])).data, "normal\n");
});
