// A throwaway CA and a leaf certificate it signs for test names (DNS names or IP addresses),
// made with the openssl CLI: for padlock's HTTPS in edge tests, Pebble's API, test servers.
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import { tempDir } from "./env.js";

export interface TestPki {
  /** Where the files are: ca.pem, leaf.key, leaf.pem (and the CA's key). */
  dir: string;
  caFile: string;
  /** PEM of the CA, for clients that must trust the leaf. */
  ca: string;
  keyFile: string;
  key: string;
  certFile: string;
  cert: string;
  notAfter: Date;
}

/** `dir` defaults to a fresh temp folder. */
export function makeTestPki(names: string[], dir = tempDir("pki").dir): TestPki {
  const f = (n: string) => path.join(dir, n);
  const openssl = (...args: string[]) => execFileSync("openssl", args, { stdio: "pipe" });
  openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", f("ca.key"), "-out", f("ca.pem"), "-days", "2", "-subj", "/CN=padlock test CA");
  openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", f("leaf.key"), "-out", f("leaf.csr"), "-subj", `/CN=${names[0]}`);
  writeFileSync(f("ext.cnf"), `subjectAltName=${names.map((n) => (net.isIP(n) ? `IP:${n}` : `DNS:${n}`)).join(",")}\nextendedKeyUsage=serverAuth\n`);
  openssl("x509", "-req", "-in", f("leaf.csr"), "-CA", f("ca.pem"), "-CAkey", f("ca.key"), "-CAcreateserial", "-out", f("leaf.pem"), "-days", "1", "-extfile", f("ext.cnf"));
  return {
    dir,
    caFile: f("ca.pem"),
    ca: readFileSync(f("ca.pem"), "utf8"),
    keyFile: f("leaf.key"),
    key: readFileSync(f("leaf.key"), "utf8"),
    certFile: f("leaf.pem"),
    cert: readFileSync(f("leaf.pem"), "utf8"),
    notAfter: new Date(Date.now() + 86_400_000),
  };
}
