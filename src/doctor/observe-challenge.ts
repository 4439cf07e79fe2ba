// What padlock can see for itself when an HTTP-01 validation fails: where the name resolves,
// what answers the challenge URL at each address, and who holds the port. The issuer passes
// these to explainAcmeProblem so the failure message says what happened, not just the CA's code.
import { randomBytes } from "node:crypto";
import { ACME_CHALLENGE_PREFIX } from "../acme/http01-challenges.js";
import type { Observation } from "../acme/problem-catalogue.js";
import { challengeUrl } from "./checks/canary.js";
import { isPadlockAnswer } from "./checks/ports.js";
import { createDnsLookup, resolveAddresses } from "./dns.js";
import { describeNetworkError, probeHttp } from "./http-probe.js";
import { localAddresses, reachableAddresses } from "./local-addresses.js";
import { describeHolder, findPortHolder } from "./port-holder.js";

export interface ObserveHttp01Options {
  name: string;
  /** The port the CA validates on (80 in production; Pebble's httpPort in tests). */
  port?: number;
  /** The challenge token; a random one shows just as well who answers. */
  token?: string;
  /** DNS server(s) "HOST:PORT", as for `padlock doctor --resolver`. */
  resolver?: string;
  timeoutMs?: number;
}

const MAX_ADDRESSES = 4;

export async function observeHttp01(options: ObserveHttp01Options): Promise<Observation[]> {
  const port = options.port ?? 80;
  const timeoutMs = options.timeoutMs ?? 5000;
  const token = options.token ?? randomBytes(24).toString("base64url");
  const url = challengeUrl(options.name, port, token);
  const local = localAddresses();
  const resolved = await resolveAddresses(createDnsLookup(options.resolver, timeoutMs), options.name);
  const observations: Observation[] = [];
  if (resolved.error) observations.push({ kind: "note", text: `looking up ${options.name} failed: ${resolved.error}` });
  if (resolved.addresses.length > 0 && !resolved.addresses.some((a) => local.includes(a))) {
    observations.push({ kind: "dns-mismatch", name: options.name, resolvesTo: resolved.addresses, localAddresses: reachableAddresses(local) });
  }
  const holder = findPortHolder(port);
  for (const address of resolved.addresses.slice(0, MAX_ADDRESSES)) {
    const outcome = await probeHttp({ address, port, host: options.name, path: ACME_CHALLENGE_PREFIX + token }, timeoutMs);
    if (outcome.kind === "error") {
      observations.push({ kind: "challenge-fetch", by: "padlock", url, address, error: describeNetworkError(outcome.code, outcome.message, timeoutMs) });
      continue;
    }
    const server = String(outcome.headers.server ?? "");
    const location = outcome.headers.location;
    observations.push({ kind: "challenge-fetch", by: "padlock", url, address, status: outcome.status, server, ...(location ? { location } : {}) });
    const answeredByPadlock = isPadlockAnswer(outcome) || (options.token !== undefined && outcome.status === 200 && outcome.body.startsWith(options.token));
    if (answeredByPadlock) observations.push({ kind: "port-holder", port, address, holder: "padlock" });
    else {
      const sameMachine = local.includes(address);
      const who = sameMachine && holder && holder.pid !== process.pid ? describeHolder(holder) : server ? `a web server that says Server: ${server}` : "another program";
      observations.push({ kind: "port-holder", port, address, holder: who });
    }
  }
  return observations;
}
