// What padlock can see for itself when an HTTP-01 validation fails: it fetches the challenge
// URL where the CA says it fetched it (the host, port and address of the CA's validation record),
// and names what answered there: padlock itself, or the program holding that port (name and pid
// when it runs on this machine, its Server header otherwise). The issuer passes these to
// explainAcmeProblem so the failure message says what happened, not just the CA's code.
//
// The probe asks for a token of its own, published for the moment it looks: padlock recognises
// its own answer by it, and logs no "unknown token" for its own probe.
import { randomBytes } from "node:crypto";
import { ACME_CHALLENGE_PREFIX, type Http01Challenges } from "../server/http01-answer.js";
import type { CaFetch, Observation } from "../acme/problem-catalogue.js";
import { isPadlockAnswer } from "./checks/ports.js";
import { createDnsLookup, resolveAddresses } from "./dns.js";
import { describeNetworkError, probeHttp } from "./http-probe.js";
import { localAddresses, reachableAddresses } from "./local-addresses.js";
import { describeHolder, findPortHolder } from "./port-holder.js";

export interface ObserveHttp01Options {
  name: string;
  /** Where the CA fetched the challenge (its validation record or its problem detail), when it said. */
  fetched?: CaFetch;
  /** padlock's own HTTP port: the CA's port when it did not say. */
  port?: number;
  /** padlock's challenges: the probe publishes its own token there while it looks. */
  challenges?: Http01Challenges;
  /** DNS server(s) "HOST:PORT", as for `padlock doctor --resolver`. */
  resolver?: string;
  timeoutMs?: number;
}

const MAX_ADDRESSES = 4;

export async function observeHttp01(options: ObserveHttp01Options): Promise<Observation[]> {
  const timeoutMs = options.timeoutMs ?? 5000;
  const target = options.fetched?.url ? new URL(options.fetched.url) : undefined;
  const host = target?.hostname.replace(/^\[|\]$/g, "") ?? options.name;
  const port = target ? Number(target.port || (target.protocol === "https:" ? 443 : 80)) : (options.port ?? 80);
  const token = randomBytes(24).toString("base64url");
  const keyAuthorization = `${token}.${randomBytes(24).toString("base64url")}`;
  const url = `http://${host.includes(":") ? `[${host}]` : host}${port === 80 ? "" : `:${port}`}${ACME_CHALLENGE_PREFIX}${token}`;
  const observations: Observation[] = [];
  const local = localAddresses();

  let addresses: string[];
  if (options.fetched?.address) {
    addresses = [options.fetched.address];
  } else {
    const resolved = await resolveAddresses(createDnsLookup(options.resolver, timeoutMs), host);
    if (resolved.error) observations.push({ kind: "note", text: `looking up ${host} failed: ${resolved.error}` });
    else if (resolved.addresses.length === 0) observations.push({ kind: "note", text: `${host} has no A or AAAA record${options.resolver ? ` at ${options.resolver}` : " in this machine's DNS"}, so padlock could not look where the CA did` });
    if (resolved.addresses.length > 0 && !resolved.addresses.some((a) => local.includes(a))) {
      observations.push({ kind: "dns-mismatch", name: host, resolvesTo: resolved.addresses, localAddresses: reachableAddresses(local) });
    }
    addresses = resolved.addresses.slice(0, MAX_ADDRESSES);
  }

  options.challenges?.publish(token, keyAuthorization);
  try {
    for (const address of addresses) {
      const outcome = await probeHttp({ address, port, host, path: ACME_CHALLENGE_PREFIX + token }, timeoutMs);
      const sameMachine = local.includes(address);
      if (outcome.kind === "error") {
        observations.push({ kind: "challenge-fetch", by: "padlock", url, address, error: describeNetworkError(outcome.code, outcome.message, timeoutMs) });
        const padlockPort = options.port;
        if (sameMachine && outcome.code === "ECONNREFUSED" && padlockPort !== undefined && padlockPort !== port) {
          observations.push({ kind: "note", text: `padlock listens on port ${padlockPort}, not ${port}: forward port ${port} to it, or set http_port: ${port}` });
        }
        continue;
      }
      const server = String(outcome.headers.server ?? "");
      const location = outcome.headers.location;
      observations.push({ kind: "challenge-fetch", by: "padlock", url, address, status: outcome.status, server, ...(location ? { location } : {}) });
      const answeredByPadlock = options.challenges ? outcome.status === 200 && outcome.body.trim() === keyAuthorization : isPadlockAnswer(outcome);
      observations.push({ kind: "port-holder", port, address, holder: answeredByPadlock ? "padlock" : whoElse(port, sameMachine, server) });
    }
  } finally {
    options.challenges?.withdraw(token);
  }
  return observations;
}

/** The program answering in padlock's place: by name and pid on this machine, else by its Server header. */
function whoElse(port: number, sameMachine: boolean, server: string): string {
  const holder = sameMachine ? findPortHolder(port) : undefined;
  if (holder && holder.pid !== process.pid) return describeHolder(holder);
  return server ? `a web server that says Server: ${server}` : "another program";
}
