// Turns a TLS server's SNI callback on and off for the connections it accepts from now on.
//
// The callback costs every full handshake a pause of OpenSSL and a call into JavaScript (~4 % of
// a handshake's CPU in bench/handshake). With one certificate for every name the callback could
// only ever pick the listener's own, so padlock leaves it off then. Node reads the callback from
// the server for each new connection, under a symbol that is not part of its documented API:
// where it cannot be found, the callback stays on (always correct, only slower).
import type tls from "node:tls";

type SniCallback = NonNullable<tls.TlsOptions["SNICallback"]>;

/** Sets the callback new connections use (undefined: none, the listener's own context for all). False when this Node keeps it elsewhere. */
export function setSniCallback(server: tls.Server, callback: SniCallback | undefined): boolean {
  const key = Object.getOwnPropertySymbols(server).find((s) => s.description === "snicallback");
  if (!key) return false;
  (server as unknown as Record<symbol, SniCallback | undefined>)[key] = callback;
  return true;
}
