// A returning client resumes every time, not every other time: each resumed TLS 1.3 connection
// gets a new session ticket, as a full handshake does. Clients use a TLS 1.3 ticket once
// (browsers, OpenSSL), so without a new one their next connection was a full handshake. The
// certificate here comes from padlock's certificate cache through SNI, as in production.
import test from "node:test";
import assert from "node:assert/strict";
import tls from "node:tls";
import { tempDir } from "../support/env.js";
import { loadConfigIn, startPadlock } from "../support/padlock-in-process.js";
import { makeTestPki } from "../support/tls.js";

const NAME = "blog.test";

interface Visit {
  resumed: boolean;
  /** The tickets the server sent on this connection (TLS 1.3 sends them after the handshake). */
  tickets: Buffer[];
  status: string;
}

function visit(port: number, ca: string, session?: Buffer): Promise<Visit> {
  return new Promise((resolve, reject) => {
    const tickets: Buffer[] = [];
    let response = "";
    let resumed = false;
    const socket = tls.connect({ host: "127.0.0.1", port, servername: NAME, ca, session, minVersion: "TLSv1.3", ALPNProtocols: ["http/1.1"] }, () => {
      resumed = socket.isSessionReused();
      socket.write(`GET / HTTP/1.1\r\nHost: ${NAME}\r\nConnection: close\r\n\r\n`);
    });
    socket.on("session", (ticket: Buffer) => tickets.push(ticket));
    socket.on("data", (chunk: Buffer) => (response += chunk.toString()));
    socket.on("error", reject);
    socket.on("close", () => resolve({ resumed, tickets, status: response.split("\r\n", 1)[0]! }));
  });
}

test("every resumed TLS 1.3 connection gets a new ticket, so a client using each ticket once resumes on every visit", async (t) => {
  const work = tempDir("session-resumption");
  t.after(() => work.remove());
  const pki = makeTestPki([NAME]);
  const config = loadConfigIn(work.dir, { sites: [{ hosts: [NAME], redirect: "https://elsewhere.test" }] });
  const p = await startPadlock(config, { baseDir: work.dir, pki });
  t.after(() => p.close());

  const first = await visit(p.httpsPort, pki.ca);
  assert.equal(first.resumed, false, "the first visit is a full handshake");
  assert.match(first.status, /^HTTP\/1\.1 308/);
  assert.ok(first.tickets.length > 0, "a full handshake ends with a ticket");
  let ticket = first.tickets.at(-1)!;
  for (let n = 2; n <= 4; n++) {
    const next = await visit(p.httpsPort, pki.ca, ticket);
    assert.equal(next.resumed, true, `visit ${n} resumes with the ticket of visit ${n - 1}`);
    assert.match(next.status, /^HTTP\/1\.1 308/);
    assert.ok(next.tickets.length > 0, `visit ${n}, resumed, gets a new ticket for the next visit`);
    assert.notDeepEqual(next.tickets.at(-1), ticket, `visit ${n}'s ticket is a new one`);
    ticket = next.tickets.at(-1)!;
  }
});
