// A site's header fields on every way a handler can write its head, over real Node servers
// (HTTP/1.1 and HTTP/2) read back as raw header lists: the site's value replaces a field of the
// same name in any case, exactly once, and the handler's other fields stay.
import test, { after, before } from "node:test";
import assert from "node:assert/strict";
import http, { type OutgoingHttpHeader, type OutgoingHttpHeaders } from "node:http";
import http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { addSiteHeaders, SiteHeaders, SiteHeadersHttp2Response, SiteHeadersResponse } from "../../src/server/site-headers.js";
import type { Response } from "../../src/server/exchange.js";

const site = new SiteHeaders([
  ["X-Frame-Options", "DENY"],
  ["strict-transport-security", "max-age=31536000"],
]);
/** HTTP/1 only: ServerResponse's deprecated alias of writeHead. */
const aliasWay = "writeHeader, the alias";
const frozen = Object.freeze({ "content-type": "text/plain", "x-frame-options": "SAMEORIGIN", "x-app": "a" });

/** How each path of the handler writes its head. */
const ways: Record<string, (res: Response) => void> = {
  "an object": (res) => res.writeHead(200, { "Content-Type": "text/plain", "X-FRAME-OPTIONS": "SAMEORIGIN", "x-app": "a" }).end("x"),
  "a frozen object, twice (the merged object is kept)": (res) => res.writeHead(200, frozen).end("x"),
  "a reason and an object": (res) => res.writeHead(200, "Fine", { "x-frame-options": "SAMEORIGIN", "x-app": "a" }).end("x"),
  "a flat list": (res) => res.writeHead(200, ["X-Frame-Options", "SAMEORIGIN", "x-app", "a"] as unknown as OutgoingHttpHeaders).end("x"),
  "a list of pairs": (res) => res.writeHead(200, [["x-frame-options", "SAMEORIGIN"], ["x-app", "a"]] as unknown as OutgoingHttpHeader[] as unknown as OutgoingHttpHeaders).end("x"),
  "no reason and the headers third": (res) => res.writeHead(200, undefined as unknown as string, { "x-frame-options": "SAMEORIGIN", "x-app": "a" }).end("x"),
  "setHeader, then headers null": (res) => {
    res.setHeader("x-app", "a");
    res.writeHead(200, null as unknown as OutgoingHttpHeaders).end("x");
  },
  "setHeader, then end": (res) => {
    res.setHeader("x-frame-options", "SAMEORIGIN");
    res.setHeader("x-app", "a");
    res.end("x");
  },
  "setHeader, then writeHead with an object": (res) => {
    res.setHeader("X-Frame-Options", "SAMEORIGIN");
    res.writeHead(200, { "x-app": "a" }).end("x");
  },
};

let h1: http.Server;
let h2: http2.Http2Server;
before(async () => {
  const handler = (req: http.IncomingMessage | http2.Http2ServerRequest, res: Response) => {
    addSiteHeaders(res, site);
    const way = decodeURIComponent((req.url ?? "").slice(1));
    if (way === aliasWay) return void (res as unknown as { writeHeader: Response["writeHead"] }).writeHeader(200, { "x-frame-options": "SAMEORIGIN", "x-app": "a" }).end("x");
    ways[way]!(res);
  };
  h1 = http.createServer({ ServerResponse: SiteHeadersResponse }, (req, res) => handler(req, res));
  h2 = http2.createServer({ Http2ServerResponse: SiteHeadersHttp2Response }, (req, res) => handler(req, res as unknown as Response));
  await Promise.all([h1, h2].map((s) => new Promise<void>((resolve) => s.listen(0, "127.0.0.1", resolve))));
});
after(() => {
  h1.close();
  h2.close();
});

function fieldsOf(raw: string[]): Map<string, string[]> {
  const fields = new Map<string, string[]>();
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    fields.set(name, [...(fields.get(name) ?? []), raw[i + 1]!]);
  }
  return fields;
}

function getH1(way: string): Promise<Map<string, string[]>> {
  return new Promise((resolve, reject) => {
    http
      .get({ port: (h1.address() as AddressInfo).port, host: "127.0.0.1", path: "/" + encodeURIComponent(way) }, (res) => {
        res.resume();
        res.on("end", () => resolve(fieldsOf(res.rawHeaders)));
      })
      .on("error", reject);
  });
}

function getH2(way: string): Promise<Map<string, string[]>> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(`http://127.0.0.1:${(h2.address() as AddressInfo).port}`);
    session.on("error", reject);
    const stream = session.request({ ":path": "/" + encodeURIComponent(way) });
    stream.on("response", (headers) => {
      const raw = Object.entries(headers).flatMap(([name, value]) => (Array.isArray(value) ? value.flatMap((v) => [name, v]) : [name, String(value)]));
      stream.resume();
      stream.on("end", () => {
        session.close();
        resolve(fieldsOf(raw));
      });
    });
  });
}

for (const [protocol, get] of [["HTTP/1.1", getH1], ["HTTP/2", getH2]] as const) {
  for (const way of Object.keys(ways)) {
    test(`${protocol}, a head written with ${way}: the site's fields replace the handler's, the rest stays`, async () => {
      for (let i = 0; i < 2; i++) {
        const fields = await get(way);
        assert.deepEqual(fields.get("x-frame-options"), ["DENY"]);
        assert.deepEqual(fields.get("strict-transport-security"), ["max-age=31536000"]);
        assert.deepEqual(fields.get("x-app"), ["a"]);
      }
    });
  }
}

test(`HTTP/1.1, a head written with ${aliasWay}: the site's fields too`, async () => {
  const fields = await getH1(aliasWay);
  assert.deepEqual(fields.get("x-frame-options"), ["DENY"]);
  assert.deepEqual(fields.get("x-app"), ["a"]);
});

test("a response padlock did not make gets the site's fields set at once", () => {
  const res = new http.ServerResponse(new http.IncomingMessage(null as never));
  addSiteHeaders(res, site);
  assert.equal(res.getHeader("x-frame-options"), "DENY");
  assert.equal(res.getHeader("strict-transport-security"), "max-age=31536000");
});

test("a frozen head (a cached page's) is merged once; any other head each time", () => {
  assert.equal(site.over(frozen), site.over(frozen));
  const fresh = { "x-app": "a" };
  assert.notEqual(site.over(fresh), site.over(fresh));
  assert.deepEqual({ ...site.over(fresh) }, { "x-app": "a", "x-frame-options": "DENY", "strict-transport-security": "max-age=31536000" });
});
