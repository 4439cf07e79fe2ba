// What `padlock certs` shows of the certificates sites bring: read from their files (the files
// are the truth, whether padlock runs or not), as "provided", with no renewal of padlock's.
import { readFile } from "node:fs/promises";
import type { ProvidedFiles } from "../config/certificate-source.js";
import { readCertificate } from "../tls/certificate-info.js";
import { daysLeft, type CertificateRecord } from "./certificate-records.js";

export async function readProvidedRecords(pairs: ProvidedFiles[], now: number = Date.now()): Promise<{ records: CertificateRecord[]; problems: string[] }> {
  const records: CertificateRecord[] = [];
  const problems: string[] = [];
  for (const pair of pairs) {
    try {
      const info = readCertificate(await readFile(pair.certificate, "utf8"));
      records.push({
        names: pair.hosts,
        folder: pair.certificate,
        ca: `files ${pair.certificate} and ${pair.key}`,
        environment: "provided",
        issuer: info.issuer,
        serial: info.serial,
        notBefore: info.notBefore.toISOString(),
        notAfter: info.notAfter.toISOString(),
        daysLeft: daysLeft(info.notAfter.getTime(), now),
        failures: 0,
        rateLimitedAt: [],
        source: "files",
      });
    } catch (err) {
      problems.push(`${pair.at}: cannot read the certificate ${pair.certificate}: ${(err as Error).message}`);
    }
  }
  return { records, problems };
}
