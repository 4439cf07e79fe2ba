// The container image and compose.yaml, built and run with podman as on the test machines
// (test/support/containers.ts). The image gets a certificate from Pebble on the host's network,
// keeps storage its own user owns, finds its certificate again after a restart, stops on
// SIGTERM, passes its health check, and binds 80 and 443 as a non-root user. The compose setup
// (padlock in front of the example Flask app under gunicorn) shows the app the client's address
// and https.
import test, { after, before } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, copyFileSync, lstatSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { randomBytes } from "node:crypto";
import https from "node:https";
import YAML from "yaml";
import { packageRoot } from "../../src/paths.js";
import { freePort, tempDir, waitFor } from "../support/env.js";
import { startPebble } from "../support/pebble.js";
import { httpsGet } from "../support/clients.js";
import { baseImage, buildImage, imageSize, podman, podmanCompose, podmanRun } from "../support/containers.js";

// The names compose.yaml gives the images it builds.
const PADLOCK_IMAGE = "localhost/padlock:latest";
const FLASK_IMAGE = "localhost/flask-behind-padlock:latest";
/** The image's user (the official Node images' `node`). */
const IMAGE_UID = 1000;

const work = tempDir("containers");
const unique = randomBytes(4).toString("hex");
const containers: string[] = [];
const volumes: string[] = [];
let buildSeconds = 0;

before(async () => {
  chmodSync(work.dir, 0o755); // files mounted into containers are read by the image's user
  const started = Date.now();
  await buildImage(packageRoot, PADLOCK_IMAGE, { NODE_IMAGE: await baseImage("node") });
  buildSeconds = (Date.now() - started) / 1000;
});

after(async () => {
  if (containers.length) await podmanRun(["rm", "--force", "--volumes", ...containers]);
  if (volumes.length) await podmanRun(["volume", "rm", "--force", ...volumes]);
  work.remove();
});

/** Runs the padlock image detached; the container's name. */
async function runPadlock(name: string, args: string[]): Promise<string> {
  containers.push(name);
  await podman(["run", "-d", "--name", name, ...args, PADLOCK_IMAGE]);
  return name;
}

/** `podman stop` (SIGTERM, then SIGKILL after 10 s): the exit code and how long it took. */
async function stop(name: string): Promise<{ exitCode: number; seconds: number }> {
  const started = Date.now();
  await podman(["stop", "--time", "10", name]);
  const seconds = (Date.now() - started) / 1000;
  return { exitCode: Number((await podman(["inspect", "--format", "{{.State.ExitCode}}", name])).trim()), seconds };
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    return e.isDirectory() ? [full, ...filesUnder(full)] : [full];
  });
}

test("the image: HTTPS with a certificate from Pebble, the health check, SIGHUP reloads, podman stop ends it with 0, storage owned by its user, a restart orders nothing", async (t) => {
  const size = await imageSize(PADLOCK_IMAGE);
  t.diagnostic(`image ${PADLOCK_IMAGE}: ${(size / 1e6).toFixed(0)} MB (the Node base ${(((await imageSize(await baseImage("node"))) / 1e6)).toFixed(0)} MB of it), built in ${buildSeconds.toFixed(0)} s`);
  const [httpPort, httpsPort] = [await freePort(), await freePort()];
  const pebble = await startPebble({ httpPort });
  t.after(() => pebble.stop());
  const etc = path.join(work.dir, "etc");
  mkdirSync(etc, { mode: 0o755 });
  copyFileSync(pebble.apiRootFile, path.join(etc, "ca-root.pem"));
  writeFileSync(
    path.join(etc, "padlock.yaml"),
    JSON.stringify({
      ca: pebble.directoryUrl,
      ca_root: "./ca-root.pem",
      accept_terms: true,
      listen: "127.0.0.1",
      http_port: httpPort,
      https_port: httpsPort,
      sites: [{ hosts: ["blog.test"], blog: "/opt/padlock/examples/blog" }],
    }),
  );
  for (const f of readdirSync(etc)) chmodSync(path.join(etc, f), 0o644);
  const volume = `padlock-test-data-${unique}`;
  volumes.push(volume);
  const args = ["--network", "host", "-v", `${etc}:/etc/padlock:ro`, "-v", `${volume}:/data`];
  const orders = () => pebble.logs().match(/Added order/g)?.length ?? 0;

  const first = await runPadlock(`padlock-test-${unique}-1`, args);
  const root = await pebble.issuingRoot();
  const served = await waitFor("HTTPS with Pebble's certificate", () => httpsGet("blog.test", httpsPort, root), 60_000, 100);
  assert.equal(served.status, 200);
  assert.equal(served.names, "DNS:blog.test");
  assert.equal(orders(), 1);
  const health = await podmanRun(["healthcheck", "run", first]);
  assert.equal(health.code, 0, `health check: ${health.stdout}${health.stderr}`);
  await podman(["kill", "--signal", "HUP", first]);
  await waitFor("PID 1 to reload the config on SIGHUP", async () => (await podman(["logs", first])).includes("config reloaded: 1 site"));

  const stopped = await stop(first);
  t.diagnostic(`podman stop took ${stopped.seconds.toFixed(1)} s`);
  assert.equal(stopped.exitCode, 0, "ended by its own SIGTERM handling (a kill after 10 s would be 137)");
  assert.match(await podman(["logs", first]), /SIGTERM received: finishing requests in flight and stopping/);

  const data = (await podman(["volume", "inspect", "--format", "{{.Mountpoint}}", volume])).trim();
  const files = [data, ...filesUnder(data)];
  assert.ok(files.some((f) => f.endsWith("cert.pem")) && files.some((f) => f.endsWith("account.key")), files.join("\n"));
  for (const f of files) assert.equal(lstatSync(f).uid, IMAGE_UID, `${f} belongs to the image's user, not root`);

  const second = await runPadlock(`padlock-test-${unique}-2`, args);
  const again = await waitFor("HTTPS after the restart", () => httpsGet("blog.test", httpsPort, root), 60_000, 100);
  assert.equal(again.serial, served.serial, "the stored certificate is served again");
  assert.equal(orders(), 1, "no new order after the restart");
  assert.equal((await stop(second)).exitCode, 0);
});

test("with no config, the image serves the example blog on 80 and 443 as its non-root user", async () => {
  const name = await runPadlock(`padlock-test-${unique}-example`, ["--network", "none", "--cap-add", "NET_BIND_SERVICE"]);
  await waitFor("the health check to pass", async () => (await podmanRun(["healthcheck", "run", name])).code === 0, 30_000, 200);
  assert.match(await podman(["exec", name, "padlock", "health"]), /^padlock is serving: http:\/\/127\.0\.0\.1:80\/\S+ answered 404, port 443 takes connections\n$/);
  assert.match(await podman(["exec", name, "cat", "/proc/1/status"]), new RegExp(`\\nUid:\\s+${IMAGE_UID}\\s+${IMAGE_UID}\\s+${IMAGE_UID}\\s+${IMAGE_UID}\\n`), "PID 1 runs as the image's user");
  const logs = await podman(["logs", name]);
  assert.match(logs, /no config file at \/etc\/padlock\/padlock\.yaml \(\$PADLOCK_CONFIG\): serving the bundled example blog/);
  assert.match(logs, /serving https:\/\/localhost:443\//);
  assert.equal((await stop(name)).exitCode, 0);
});

test("compose.yaml: the Flask app behind padlock sees the client's address and https, in its own access log", async (t) => {
  const started = Date.now();
  const how = await buildImage(path.join(packageRoot, "examples", "flask-behind-padlock"), FLASK_IMAGE, { BASE_IMAGE: await baseImage("debian") }, { reuse: true });
  t.diagnostic(`image ${FLASK_IMAGE} ${how} in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  // compose.yaml as shipped, with host ports free on this machine, and a config for localhost
  // (certificates from padlock's internal CA) where the example's config names example.com.
  const project = `padlock-compose-${unique}`;
  const dir = path.join(work.dir, project);
  mkdirSync(path.join(dir, "examples", "flask-behind-padlock"), { recursive: true });
  const [httpPort, httpsPort] = [await freePort(), await freePort()];
  const compose = readFileSync(path.join(packageRoot, "compose.yaml"), "utf8");
  const parsed = YAML.parse(compose) as { services: Record<string, Record<string, unknown>>; volumes: Record<string, unknown> };
  assert.deepEqual(Object.keys(parsed.services), ["padlock", "web"], "padlock and the app, nothing else (no certbot, no nginx)");
  assert.deepEqual(Object.keys(parsed.volumes), ["padlock-data"]);
  for (const service of Object.values(parsed.services)) assert.ok(!("command" in service) && !("entrypoint" in service), "no sleep loops or scripts");
  assert.ok(compose.includes('"80:80"') && compose.includes('"443:443"'));
  writeFileSync(path.join(dir, "compose.yaml"), compose.replace('"80:80"', `"127.0.0.1:${httpPort}:80"`).replace('"443:443"', `"127.0.0.1:${httpsPort}:443"`));
  writeFileSync(path.join(dir, "examples", "flask-behind-padlock", "padlock.yaml"), "sites:\n  - hosts: [localhost]\n    proxy: http://web:5001\n", { mode: 0o644 });
  chmodSync(dir, 0o755);
  t.after(async () => {
    await podmanCompose(dir, ["down", "-v"]).catch(() => undefined);
    await podmanRun(["network", "rm", "--force", `${project}_default`]);
  });
  await podmanCompose(dir, ["up", "-d"]);
  const [padlockContainer, webContainer] = [`${project}_padlock_1`, `${project}_web_1`];

  const rootPem = await waitFor("padlock's internal root", async () => (await podmanRun(["exec", padlockContainer, "cat", "/data/internal-ca/root.crt"])).stdout || undefined, 30_000, 200);
  // A client claiming another address: padlock is the only proxy the app trusts, and it drops the claim.
  const claimed = "203.0.113.9";
  const answer = await waitFor(
    "the Flask app through padlock",
    async () => {
      const res = await fetchWithRoot(`https://localhost:${httpsPort}/`, rootPem, { "x-forwarded-for": claimed });
      return res.status === 200 && (JSON.parse(res.body) as { client: string; scheme: string; url: string });
    },
    30_000,
    200,
  );
  assert.equal(answer.scheme, "https");
  assert.equal(answer.url, `https://localhost:${httpsPort}/`);

  // padlock's access log (written within a second) names the client it saw; gunicorn's names the same one.
  const padlockLine = await waitFor("padlock's access log line", async () =>
    (await podman(["logs", padlockContainer])).split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.path === "/" && l.status === 200),
  );
  const client = padlockLine.client as string;
  const padlockAddress = (await podman(["inspect", "--format", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}", padlockContainer])).trim();
  assert.equal(answer.client, client, "request.remote_addr is the client padlock saw");
  assert.notEqual(client, padlockAddress);
  assert.notEqual(client, claimed);
  const logs = await podmanRun(["logs", webContainer]);
  const gunicornLog = logs.stdout + logs.stderr;
  assert.ok(gunicornLog.split("\n").includes(`${client} https "GET / HTTP/1.1" 200`), `gunicorn's access log shows the client and https:\n${gunicornLog}`);
  assert.ok(!gunicornLog.includes(padlockAddress), "never padlock's own address");
});

/** An HTTPS request trusting only `rootPem` (padlock's internal CA). */
async function fetchWithRoot(url: string, rootPem: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request(url, { ca: rootPem, headers, agent: false }, (res) => {
      let body = "";
      res.setEncoding("utf8").on("data", (c: string) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode!, body }));
    });
    req.on("error", reject);
    req.end();
  });
}
