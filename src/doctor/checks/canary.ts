// Check: a canary HTTP-01 round-trip. padlock publishes a random token (starting its own Edge
// on the HTTP port when the port is free) and fetches http://<name>/.well-known/acme-challenge/
// <token> from each address the name resolves to, as the CA would, reporting what came back.
import { randomBytes } from "node:crypto";
import { ACME_CHALLENGE_PREFIX, Http01Challenges } from "../../server/http01-answer.js";
import { createLogger } from "../../log.js";
import { Edge } from "../../server/edge.js";
import { SiteTable } from "../../server/site-table.js";
import { sendText } from "../../server/exchange.js";
import type { SiteRuntime } from "../../server/site-runtime.js";
import { CertificateCache } from "../../tls/certificate-cache.js";
import { fail, ok, type CheckResult } from "../check-result.js";
import type { ResolvedAddresses } from "../dns.js";
import { addressPort, describeNetworkError, describeResponse, probeHttp, type ProbeOutcome } from "../http-probe.js";
import { describeHolder } from "../port-holder.js";
import { isPadlockAnswer, type PortState } from "./ports.js";

export interface CanaryName {
  name: string;
  resolved: ResolvedAddresses;
}

export interface CanaryOptions {
  names: CanaryName[];
  port: number;
  listen?: string;
  /** State of the HTTP port found by the port check. */
  portState: PortState;
  localAddresses: string[];
  timeoutMs: number;
}

/** At most this many addresses per name are tried; the CA uses one of them. */
const MAX_ADDRESSES = 4;

type Answerer = "doctor" | "running-padlock" | "other";

export async function runCanary(options: CanaryOptions): Promise<CheckResult[]> {
  const token = randomBytes(24).toString("base64url");
  const keyAuthorization = `${token}.${randomBytes(32).toString("base64url")}`;
  const challenges = new Http01Challenges();
  challenges.publish(token, keyAuthorization);
  const edge = options.portState.kind === "free" ? await startCanaryEdge(options, challenges) : undefined;
  const answerer: Answerer = edge ? "doctor" : options.portState.kind === "held" && options.portState.isPadlock ? "running-padlock" : "other";
  try {
    return await Promise.all(options.names.map((n) => canaryForName(n, token, keyAuthorization, answerer, options)));
  } finally {
    await edge?.close();
  }
}

async function startCanaryEdge(options: CanaryOptions, challenges: Http01Challenges): Promise<Edge | undefined> {
  // A site for the names checked: padlock answers ACME challenges only for hosts it serves.
  const hosts = options.names.map((n) => n.name);
  const site: SiteRuntime = { hosts, config: { hosts }, handle: (ex) => sendText(ex.res, 404, "Not found."), close: async () => {} };
  const edge = new Edge({
    listen: options.listen,
    httpPort: options.port,
    sites: new SiteTable<SiteRuntime>([{ hosts, site }]),
    challenges,
    certificates: new CertificateCache(),
    log: createLogger({ level: "silent", format: "json" }),
  });
  try {
    await edge.start();
    return edge;
  } catch {
    return undefined; // taken since the port check: the canary still shows what answers
  }
}

export function challengeUrl(name: string, port: number, token: string): string {
  const host = name.includes(":") ? `[${name}]` : name;
  return `http://${host}${port === 80 ? "" : `:${port}`}${ACME_CHALLENGE_PREFIX}${token}`;
}

async function canaryForName(n: CanaryName, token: string, keyAuthorization: string, answerer: Answerer, options: CanaryOptions): Promise<CheckResult> {
  const check = `canary ${n.name}`;
  const url = challengeUrl(n.name, options.port, token);
  if (n.resolved.addresses.length === 0) {
    return fail(check, `cannot fetch ${url}: ${n.name} has no address (${n.resolved.error ?? "no A/AAAA record"})`, `add an A/AAAA record for ${n.name} pointing at this machine`);
  }
  const addresses = n.resolved.addresses.slice(0, MAX_ADDRESSES);
  const outcomes = await Promise.all(
    addresses.map(async (address) => ({
      address,
      outcome: await probeHttp({ address, port: options.port, host: n.name, path: ACME_CHALLENGE_PREFIX + token }, options.timeoutMs),
    })),
  );
  const verdicts = outcomes.map(({ address, outcome }) => judge(address, outcome, keyAuthorization, answerer, options));
  const found = `fetched ${url} as the CA would:\n` + verdicts.map((v) => `- from ${addressPort(v.address, options.port)}: ${v.said}`).join("\n");
  const bad = verdicts.filter((v) => !v.good);
  if (bad.length === 0) return ok(check, found);
  return fail(check, found, [...new Set(bad.map((v) => v.fix))].join("; "));
}

interface Verdict {
  address: string;
  good: boolean;
  said: string;
  fix: string;
}

function judge(address: string, outcome: ProbeOutcome, keyAuthorization: string, answerer: Answerer, options: CanaryOptions): Verdict {
  const elsewhere = options.localAddresses.includes(address) ? "" : ` (${address} is not an address of this machine)`;
  const port = options.port;
  if (outcome.kind === "error") {
    return {
      address,
      good: false,
      said: describeNetworkError(outcome.code, outcome.message, options.timeoutMs) + elsewhere,
      fix: `make port ${port} at ${address} reach this machine (DNS record, firewall, port forwarding)`,
    };
  }
  const answered = describeResponse(outcome.status, outcome.headers);
  if (answerer === "doctor" && outcome.status === 200 && outcome.body.trim() === keyAuthorization) {
    return { address, good: true, said: "200 with the canary token: padlock answered", fix: "" };
  }
  if (answerer === "running-padlock" && isPadlockAnswer(outcome)) {
    return { address, good: true, said: `${answered}: the running padlock answered (it does not hold the doctor's token, so 404 is right)`, fix: "" };
  }
  const heldBy = options.portState.kind === "held" && options.portState.holder ? describeHolder(options.portState.holder) : undefined;
  const notPadlock = `port ${port} at ${address} is not padlock${heldBy && !elsewhere ? ` (it is ${heldBy})` : ""}${elsewhere}`;
  const passThrough = `stop the other web server on port ${port} or make it pass /.well-known/acme-challenge/ to padlock`;
  if (outcome.status >= 300 && outcome.status < 400) {
    return {
      address,
      good: false,
      said: `${answered}: padlock never redirects challenge requests, so another server answered; ${notPadlock}`,
      fix: `remove the redirect for /.well-known/acme-challenge/ (an HTTPS redirect in a proxy or CDN in front), or ${passThrough}`,
    };
  }
  if (outcome.status === 200) {
    return {
      address,
      good: false,
      said: `200 but the body is not the token (it starts "${outcome.body.slice(0, 60).replace(/\s+/g, " ")}"), ${answered.replace(/^200 /, "")}; ${notPadlock}`,
      fix: passThrough,
    };
  }
  return { address, good: false, said: `${answered}: another web server answered; ${notPadlock}`, fix: passThrough };
}
