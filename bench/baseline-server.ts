// The baseline for bench/serve: the smallest node:http server answering one response from
// memory: the body file's bytes, with the header fields given as JSON (the ones padlock sent for
// the page; node:http adds Date and Connection itself, as it does for padlock). Prints its port.
import http from "node:http";
import fs from "node:fs";
import type { AddressInfo } from "node:net";

const body = fs.readFileSync(process.argv[2]!);
const headers = { ...(JSON.parse(fs.readFileSync(process.argv[3]!, "utf8")) as Record<string, string>), "content-length": body.length };
const server = http.createServer((_req, res) => {
  res.writeHead(200, headers);
  res.end(body);
});
server.listen(0, "127.0.0.1", () => process.stdout.write(`listening ${(server.address() as AddressInfo).port}\n`));
