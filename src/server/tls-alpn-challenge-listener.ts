// Answers TLS-ALPN-01 validation handshakes on the normal HTTPS listener. While a challenge is
// pending, each new connection's ClientHello is read first: one offering ALPN `acme-tls/1` for a
// name with a challenge gets the challenge certificate and `acme-tls/1`, then is closed; every
// other connection is handed, bytes untouched, to the listener's usual TLS handling. With no
// challenge pending, connections go straight through. Challenges other instances sharing the
// storage published are held here too (certificates/shared-challenges.ts makes their certificates).
import type net from "node:net";
import tls from "node:tls";
import { parseClientHello } from "../tls/client-hello.js";
import { createPolicyContext } from "../tls/tls-policy.js";

export const ACME_TLS_ALPN_PROTOCOL = "acme-tls/1";

/** The TLS-ALPN-01 challenge certificates the certificate manager publishes, by name. */
export class TlsAlpn01Challenges {
  private readonly byName = new Map<string, tls.SecureContext>();
  /** Published by other instances: the context, being made or made. */
  private readonly others = new Map<string, Promise<tls.SecureContext | undefined>>();

  publish(name: string, keyPem: string, certPem: string): void {
    this.byName.set(name.toLowerCase(), createPolicyContext({ key: keyPem, cert: certPem }));
  }

  withdraw(name: string): void {
    this.byName.delete(name.toLowerCase());
  }

  lookup(name: string): tls.SecureContext | undefined {
    return this.byName.get(name.toLowerCase());
  }

  /** Another instance published a challenge for `name`: its certificate, being made or made. */
  sharedPublished(name: string, certificate: Promise<{ keyPem: string; certPem: string } | undefined>): void {
    const context = certificate.then((c) => c && createPolicyContext({ key: c.keyPem, cert: c.certPem }));
    this.others.set(name.toLowerCase(), context.catch(() => undefined));
  }

  sharedWithdrawn(name: string): void {
    this.others.delete(name.toLowerCase());
  }

  /** This instance's challenge for `name`, else another's. */
  async resolve(name: string): Promise<tls.SecureContext | undefined> {
    return this.lookup(name) ?? (await this.others.get(name.toLowerCase()));
  }

  /** Whether any challenge is waiting: only then does the listener look at ClientHellos. */
  get pending(): boolean {
    return this.byName.size > 0 || this.others.size > 0;
  }
}

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
