// Check: can padlock bind its HTTP/HTTPS port, and if the port is held, by whom — a padlock
// (its HTTP answer gives it away) or another program (named from /proc when permitted).
import net from "node:net";
import { randomBytes } from "node:crypto";
import { ACME_CHALLENGE_PREFIX } from "../../server/http01-answer.js";
import { fail, ok, type CheckResult } from "../check-result.js";
import { describeResponse, probeHttp, type ProbeOutcome } from "../http-probe.js";
import { describeHolder, findPortHolder, looksLikePadlock, type PortHolder } from "../port-holder.js";

export type PortState =
  | { kind: "free" }
  | { kind: "denied" }
  | { kind: "held"; holder?: PortHolder; answer?: ProbeOutcome; isPadlock: boolean };

// What padlock's HTTP listener answers for a token it does not hold.
const PADLOCK_UNKNOWN_TOKEN_BODY = "No such ACME challenge token.";

export function tryBind(port: number, host: string | undefined): Promise<"free" | "inuse" | "denied"> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", (err: NodeJS.ErrnoException) => {
      if (err.code === "EADDRINUSE") resolve("inuse");
      else if (err.code === "EACCES") resolve("denied");
      else reject(err);
    });
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve("free")));
  });
}

/** A padlock answers an unknown challenge token with its own 404 text. */
export function isPadlockAnswer(answer: ProbeOutcome | undefined): boolean {
  if (!answer || answer.kind !== "response") return false;
  return /\bpadlock\b/i.test(String(answer.headers.server ?? "")) || (answer.status === 404 && answer.body.trim() === PADLOCK_UNKNOWN_TOKEN_BODY);
}

/**
 * Who holds the port, and (with `probeHost`) how it answers an ACME challenge request for that
 * host: padlock answers challenges only for hosts it serves, so the probe names one of the config's.
 */
export async function portState(port: number, listen: string | undefined, probeHost: string | undefined, timeoutMs: number): Promise<PortState> {
  const bind = await tryBind(port, listen);
  if (bind === "free") return { kind: "free" };
  if (bind === "denied") return { kind: "denied" };
  const holder = findPortHolder(port);
  const answer = probeHost !== undefined
    ? await probeHttp({ address: loopbackFor(listen), port, host: probeHost, path: ACME_CHALLENGE_PREFIX + randomBytes(12).toString("base64url") }, timeoutMs)
    : undefined;
  return { kind: "held", holder, answer, isPadlock: isPadlockAnswer(answer) || (holder !== undefined && looksLikePadlock(holder)) };
}

function loopbackFor(listen: string | undefined): string {
  if (!listen || listen === "0.0.0.0") return "127.0.0.1";
  if (listen === "::") return "::1";
  return listen;
}

export function describePortState(port: number, state: PortState & { kind: "held" }): string {
  const who = state.holder ? describeHolder(state.holder) : "a program this user cannot see";
  const answer = state.answer?.kind === "response" ? `; it answers HTTP with ${describeResponse(state.answer.status, state.answer.headers)}` : "";
  return `port ${port} is held by ${state.isPadlock ? "a padlock: " : ""}${who}${answer}`;
}

export async function checkPort(role: "HTTP" | "HTTPS", port: number, listen: string | undefined, timeoutMs: number, probeHost?: string): Promise<{ result: CheckResult; state: PortState }> {
  const check = `port ${port} (${role})`;
  const state = await portState(port, listen, role === "HTTP" ? (probeHost ?? "localhost") : undefined, timeoutMs);
  switch (state.kind) {
    case "free":
      return { state, result: ok(check, `port ${port} is free and this process can bind it`) };
    case "denied":
      return {
        state,
        result: fail(
          check,
          `this user (uid ${process.getuid?.()}) may not bind port ${port}`,
          `ports below 1024 need root (padlock drops to user: after binding) or: sudo setcap cap_net_bind_service=+ep "$(readlink -f "$(which node)")"`,
        ),
      };
    case "held":
      if (state.isPadlock) return { state, result: ok(check, `${describePortState(port, state)} (already running)`) };
      return {
        state,
        result: fail(
          check,
          describePortState(port, state),
          role === "HTTP"
            ? `stop that program (or move it to another port) so padlock can answer port ${port}; if it must stay, make it pass /.well-known/acme-challenge/ to padlock`
            : `stop that program (or move it to another port) so padlock can serve HTTPS on port ${port}`,
        ),
      };
  }
}
