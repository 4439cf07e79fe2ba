// Answers TLS-ALPN-01 validation handshakes on the normal HTTPS listener. While a challenge is
// pending, each new connection's ClientHello is read first: one offering ALPN `acme-tls/1` for a
// name with a challenge gets the challenge certificate and `acme-tls/1`, then is closed; every
// other connection is handed, bytes untouched, to the listener's usual TLS handling. With no
// challenge pending, connections go straight through.
import type net from "node:net";
import tls from "node:tls";
import { ACME_TLS_ALPN_PROTOCOL, type TlsAlpn01Challenges } from "../acme/tls-alpn01-challenges.js";
import { parseClientHello } from "../tls/client-hello.js";

/** A ClientHello bigger than this is not waited for (TLS records hold at most 16 KiB). */
const MAX_HELLO_BYTES = 16 * 1024 + 5;
const HELLO_TIMEOUT_MS = 10_000;

export function answerTlsAlpnChallenges(server: tls.Server, challenges: TlsAlpn01Challenges): void {
  const tlsHandlers = server.listeners("connection") as ((socket: net.Socket) => void)[];
  server.removeAllListeners("connection");
  const handOver = (socket: net.Socket) => {
    for (const handler of tlsHandlers) handler.call(server, socket);
  };
  server.on("connection", (socket: net.Socket) => {
    if (!challenges.pending) return handOver(socket);
    let received = Buffer.alloc(0);
    const decide = () => {
      socket.off("data", onData);
      socket.off("error", onEarlyEnd);
      socket.off("end", onEarlyEnd);
      clearTimeout(timer);
      socket.pause();
      const hello = parseClientHello(received);
      const name = typeof hello === "object" && hello.serverName && hello.alpn.includes(ACME_TLS_ALPN_PROTOCOL) ? hello.serverName : undefined;
      socket.unshift(received);
      const own = name === undefined ? undefined : challenges.lookup(name);
      if (own) return answerChallenge(socket, own);
      if (name === undefined) return handOver(socket);
      // Another instance's challenge, whose certificate may still be being made here.
      challenges.resolve(name).then(
        (shared) => (shared ? answerChallenge(socket, shared) : handOver(socket)),
        () => handOver(socket),
      );
    };
    const onData = (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (parseClientHello(received) !== "incomplete" || received.length >= MAX_HELLO_BYTES) decide();
    };
    const onEarlyEnd = () => {
      clearTimeout(timer);
      socket.destroy();
    };
    const timer = setTimeout(onEarlyEnd, HELLO_TIMEOUT_MS);
    socket.on("data", onData);
    socket.on("error", onEarlyEnd);
    socket.on("end", onEarlyEnd);
  });
}

function answerChallenge(socket: net.Socket, secureContext: tls.SecureContext): void {
  const tlsSocket = new tls.TLSSocket(socket, { isServer: true, secureContext, ALPNProtocols: [ACME_TLS_ALPN_PROTOCOL] });
  tlsSocket.once("secure", () => tlsSocket.end());
  tlsSocket.on("error", () => tlsSocket.destroy());
  tlsSocket.setTimeout(HELLO_TIMEOUT_MS, () => tlsSocket.destroy());
}
