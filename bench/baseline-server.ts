// The baseline for bench/serve: the smallest node:http server answering one file's bytes from
// memory, with the same Content-Type padlock sends. Prints its port.
import http from "node:http";
import fs from "node:fs";
import type { AddressInfo } from "node:net";

const body = fs.readFileSync(process.argv[2]!);
const server = http.createServer((_req, res) => {
  res.writeHead(200, { "content-type": "text/html; charset=utf-8", "content-length": body.length });
  res.end(body);
});
server.listen(0, "127.0.0.1", () => process.stdout.write(`listening ${(server.address() as AddressInfo).port}\n`));
