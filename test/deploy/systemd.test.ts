// packaging/padlock.service is a valid unit (systemd-analyze verify), sandboxed well enough that
// systemd rates its exposure at most 2.5 of 10, with the settings the README promises.
import test from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { packageRoot } from "../../src/paths.js";

const unit = path.join(packageRoot, "packaging", "padlock.service");

function analyze(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile("systemd-analyze", args, (err, stdout, stderr) => resolve({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr }));
  });
}

test("systemd-analyze verify finds nothing to say about the unit", async () => {
  const result = await analyze(["verify", "--man=no", unit]);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout + result.stderr, "");
});

test("systemd-analyze security rates the unit's exposure at most 2.5", async (t) => {
  const result = await analyze(["security", "--offline=true", unit]);
  assert.equal(result.code, 0, result.stderr);
  const rating = Number(/Overall exposure level for padlock\.service: (\d+\.\d+)/.exec(result.stdout)?.[1]);
  t.diagnostic(`systemd-analyze security: exposure ${rating} (0 is best, 10 worst)`);
  assert.ok(rating <= 2.5, `exposure ${rating}:\n${result.stdout}`);
});

test("its own user, its state folder, the one capability to bind 80 and 443, SIGHUP to reload, a restart on failure", () => {
  const settings = readFileSync(unit, "utf8").split("\n").filter((l) => /^\w+=/.test(l));
  for (const line of ["DynamicUser=yes", "StateDirectory=padlock", "AmbientCapabilities=CAP_NET_BIND_SERVICE", "CapabilityBoundingSet=CAP_NET_BIND_SERVICE", "NoNewPrivileges=yes", "ProtectSystem=strict", "ProtectHome=yes", "PrivateTmp=yes", "ExecReload=/bin/kill -HUP $MAINPID", "Restart=on-failure"]) {
    assert.ok(settings.includes(line), line);
  }
  assert.equal(settings.filter((l) => l.startsWith("AmbientCapabilities=")).length, 1, "no other capability");
});
