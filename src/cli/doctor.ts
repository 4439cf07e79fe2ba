// `padlock doctor`: pre-flight checks before asking a CA for anything; a table for people,
// JSON for scripts; exit 1 when any check fails.
import { formatTable } from "../doctor/format-table.js";
import { runDoctor } from "../doctor/run-doctor.js";

export interface DoctorFlags {
  config: string;
  json?: boolean;
  resolver?: string;
  httpPort?: number;
  httpsPort?: number;
  timeout?: number;
}

export async function doctorCommand(flags: DoctorFlags): Promise<void> {
  const report = await runDoctor({
    configFile: flags.config,
    resolver: flags.resolver,
    httpPort: flags.httpPort,
    httpsPort: flags.httpsPort,
    timeoutMs: flags.timeout === undefined ? undefined : flags.timeout * 1000,
  });
  if (flags.json) process.stdout.write(JSON.stringify({ ok: report.failed === 0, ...report }, null, 2) + "\n");
  else process.stdout.write(formatTable(report.results, process.stdout.columns || Number(process.env.COLUMNS) || 100));
  process.exitCode = report.failed > 0 ? 1 : 0;
}

