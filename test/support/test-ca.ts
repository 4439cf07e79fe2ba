// A throwaway CA and a server certificate it signs for 127.0.0.1/localhost (openssl), for
// servers whose TLS the code under test must be told to trust.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";

export interface TestCa {
  rootFile: string;
  rootPem: string;
  key: string;
  cert: string;
}

export function makeTestCa(dir: string): TestCa {
  const file = (name: string) => path.join(dir, name);
  const openssl = (...args: string[]) => execFileSync("openssl", args, { stdio: "pipe" });
  openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2", "-subj", "/CN=padlock test root", "-keyout", file("root.key"), "-out", file("root.pem"));
  openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj", "/CN=localhost", "-keyout", file("server.key"), "-out", file("server.csr"));
  const ext = file("server.ext");
  execFileSync("sh", ["-c", `printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\\n' > '${ext}'`]);
  openssl("x509", "-req", "-in", file("server.csr"), "-CA", file("root.pem"), "-CAkey", file("root.key"), "-CAcreateserial", "-days", "2", "-extfile", ext, "-out", file("server.pem"));
  return {
    rootFile: file("root.pem"),
    rootPem: readFileSync(file("root.pem"), "utf8"),
    key: readFileSync(file("server.key"), "utf8"),
    cert: readFileSync(file("server.pem"), "utf8"),
  };
}
