// A client that sends exactly the bytes it is given, as a hostile client would (curl and Node's
// own clients refuse to send most malformed requests), over plain TCP or TLS, and collects what
// the server wrote: until the server closes the connection, or stays silent for a moment after
// answering. (It does not half-close: Node's servers drop a request whose client half-closed.)
import net from "node:net";
import tls from "node:tls";

export interface RawAnswer {
  /** Everything the server sent, as latin1 text. */
  text: string;
  /** Status of the first response, or undefined when none came. */
  status?: number;
  /** Header fields of the first response, lower-case names. */
  headers: Record<string, string>;
  /** Body of the first response (up to the end of what was received). */
  body: string;
  /** Why the exchange ended early, if it did (a TLS alert, a reset). */
  error?: string;
}

export interface RawOptions {
  /** TLS options (servername, ALPNProtocols…); plain TCP when absent. */
  tls?: tls.ConnectionOptions;
  host?: string;
  /** Stop waiting this long after the last bytes that came (default 300 ms). */
  idleMs?: number;
  /** Stop waiting after this long in all (default 5 s). */
  timeoutMs?: number;
}

export function sendRaw(port: number, bytes: string | Buffer, options: RawOptions = {}): Promise<RawAnswer> {
  return new Promise((resolve) => {
    const host = options.host ?? "127.0.0.1";
    const chunks: Buffer[] = [];
    let error: string | undefined;
    const socket: net.Socket = options.tls
      ? tls.connect({ host, port, rejectUnauthorized: false, ...options.tls }, () => send())
      : net.connect({ host, port }, () => send());
    const send = () => socket.write(bytes);
    const timer = setTimeout(() => socket.destroy(), options.timeoutMs ?? 5000);
    let idle: NodeJS.Timeout | undefined;
    socket.on("data", (c: Buffer) => {
      chunks.push(c);
      clearTimeout(idle);
      idle = setTimeout(() => socket.destroy(), options.idleMs ?? 300);
    });
    socket.on("error", (err: NodeJS.ErrnoException) => (error = err.code ?? err.message));
    socket.on("close", () => {
      clearTimeout(timer);
      clearTimeout(idle);
      resolve({ ...parseResponse(Buffer.concat(chunks).toString("latin1")), error });
    });
  });
}

function parseResponse(text: string): Omit<RawAnswer, "error"> {
  const end = text.indexOf("\r\n\r\n");
  const head = (end < 0 ? text : text.slice(0, end)).split("\r\n");
  const status = /^HTTP\/\d\.\d (\d{3})/.exec(head[0] ?? "")?.[1];
  const headers: Record<string, string> = {};
  for (const line of head.slice(1)) {
    const colon = line.indexOf(":");
    if (colon > 0) headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { text, status: status ? Number(status) : undefined, headers, body: end < 0 ? "" : text.slice(end + 4) };
}

/** A request head (and body) from its parts, CRLF-terminated; `lines` go in as written. */
export function rawRequest(requestLine: string, lines: string[], body = ""): string {
  return [requestLine, ...lines, "", body].join("\r\n");
}
