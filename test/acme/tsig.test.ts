// An RFC 2136 update only counts when the answer is signed with the same key: an answer that is
// unsigned, or signed with a MAC that does not verify, is refused (a spoofed UDP packet must not
// make padlock believe the record is there). A fake server plays the spoofer here; the real
// signed answers are checked against Knot in dns01.test.ts.
import test from "node:test";
import assert from "node:assert/strict";
import dgram from "node:dgram";
import type { AddressInfo } from "node:net";
import { AuthoritativeTxtCheck } from "../../src/acme/dns01/authoritative.js";
import { Dns01Error } from "../../src/acme/dns01/provider.js";
import { Rfc2136Provider } from "../../src/acme/dns01/rfc2136.js";
import { readTsig } from "../../src/acme/dns01/tsig.js";

const key = { name: "padlock-test.", algorithm: "hmac-sha256" as const, secret: Buffer.alloc(32, 1) };

/** Answers every message with `answer(request)`. */
async function fakeServer(answer: (request: Buffer) => Buffer): Promise<{ address: string; close(): void }> {
  const socket = dgram.createSocket("udp4");
  socket.on("message", (request, peer) => socket.send(answer(request), peer.port, peer.address));
  await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", resolve));
  return { address: `127.0.0.1:${(socket.address() as AddressInfo).port}`, close: () => socket.close() };
}

function asResponse(message: Buffer): Buffer {
  const response = Buffer.from(message);
  response.writeUInt16BE(response.readUInt16BE(2) | 0x8000, 2); // QR: this is a response, rcode NOERROR
  return response;
}

async function presentThrough(answer: (request: Buffer) => Buffer): Promise<unknown> {
  const server = await fakeServer(answer);
  try {
    const provider = new Rfc2136Provider({ server: server.address, zone: "example.test", key, check: new AuthoritativeTxtCheck(), timeoutMs: 2000 });
    return await provider.present("_acme-challenge.example.test", "v").then(() => undefined, (err: unknown) => err);
  } finally {
    server.close();
  }
}

test("an unsigned NOERROR answer to a signed update is not trusted", async () => {
  const error = await presentThrough((request) => {
    const tsig = readTsig(request)!;
    const unsigned = asResponse(request.subarray(0, tsig.offset));
    unsigned.writeUInt16BE(unsigned.readUInt16BE(10) - 1, 10);
    return unsigned;
  });
  assert.ok(error instanceof Dns01Error, String(error));
  assert.equal(error.kind, "update-failed");
  assert.match(error.message, /accepted the update of _acme-challenge\.example\.test, but the answer is not signed; not trusting it/);
});

test("an answer whose TSIG MAC does not verify is not trusted", async () => {
  // Echoing the request's own TSIG back: right key name, wrong MAC for an answer.
  const error = await presentThrough((request) => asResponse(request));
  assert.ok(error instanceof Dns01Error, String(error));
  assert.match(error.message, /TSIG signature does not verify; not trusting it/);
});
