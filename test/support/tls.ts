// A throwaway CA and a leaf certificate for test names, made with the openssl CLI.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";

export interface TestPki {
  dir: string;
  caFile: string;
  ca: string;
  key: string;
  cert: string;
  notAfter: Date;
}

export function makeTestPki(names: string[]): TestPki {
  const dir = mkdtempSync(path.join(os.tmpdir(), "padlock-pki-"));
  const f = (n: string) => path.join(dir, n);
  const openssl = (...args: string[]) => execFileSync("openssl", args, { stdio: "pipe" });
  openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", f("ca.key"), "-out", f("ca.pem"), "-days", "2", "-subj", "/CN=padlock test CA");
  openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", f("leaf.key"), "-out", f("leaf.csr"), "-subj", `/CN=${names[0]}`);
  writeFileSync(f("ext.cnf"), `subjectAltName=${names.map((n) => (/^[\d.]+$/.test(n) ? `IP:${n}` : `DNS:${n}`)).join(",")}\nextendedKeyUsage=serverAuth\n`);
  openssl("x509", "-req", "-in", f("leaf.csr"), "-CA", f("ca.pem"), "-CAkey", f("ca.key"), "-CAcreateserial", "-out", f("leaf.pem"), "-days", "1", "-extfile", f("ext.cnf"));
  return {
    dir,
    caFile: f("ca.pem"),
    ca: readFileSync(f("ca.pem"), "utf8"),
    key: readFileSync(f("leaf.key"), "utf8"),
    cert: readFileSync(f("leaf.pem"), "utf8"),
    notAfter: new Date(Date.now() + 86_400_000),
  };
}
