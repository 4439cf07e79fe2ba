// podman as it runs on the test machines (../shared/CONTAINERS.md): no image registry, so the
// Dockerfiles' base images are local stand-ins (base-images.sh); vfs storage, runc and cgroupfs,
// no systemd. The same settings reach podman-compose through CONTAINERS_CONF. Debian packages
// podman, podman-compose, the CNI dnsname plugin, runc, busybox-static and mmdebstrap
// (scripts/test-deps) provide them.
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { packageRoot } from "../../src/paths.js";
import { tempDir } from "./env.js";

const { dir: settings, remove: removeSettings } = tempDir("podman");
process.once("exit", removeSettings);
writeFileSync(
  path.join(settings, "containers.conf"),
  // default_ulimits: without it `podman run` fails (error setting rlimit type 7); crun, the default
  // runtime, does not run here; there is no systemd to manage cgroups.
  '[containers]\ndefault_ulimits = []\npids_limit = 0\n[engine]\nruntime = "runc"\ncgroup_manager = "cgroupfs"\n',
);
const env = { ...process.env, CONTAINERS_CONF: path.join(settings, "containers.conf") };
const STORAGE = ["--storage-driver", "vfs"];

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

function run(command: string, args: string[], cwd?: string): Promise<CommandResult> {
  return new Promise((resolve) => {
    execFile(command, args, { env, cwd, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === "number" ? err.code : 1) : 0;
      resolve({ code, stdout, stderr: err && typeof err.code !== "number" ? `${stderr}${err.message}` : stderr });
    });
  });
}

/** podman ARGS, whatever its exit code. */
export function podmanRun(args: string[]): Promise<CommandResult> {
  return run("podman", [...STORAGE, ...args]);
}

/** podman ARGS' standard output; throws with its error output when it fails. */
export async function podman(args: string[]): Promise<string> {
  const result = await podmanRun(args);
  if (result.code !== 0) throw new Error(`podman ${args.join(" ")} exited ${result.code}:\n${result.stderr}`);
  return result.stdout;
}

/** podman-compose ARGS in the project folder `dir`; throws with its output when it fails. */
export async function podmanCompose(dir: string, args: string[]): Promise<string> {
  const result = await run("podman-compose", ["--podman-args", STORAGE.join(" "), ...args], dir);
  if (result.code !== 0) throw new Error(`podman-compose ${args.join(" ")} exited ${result.code}:\n${result.stdout}\n${result.stderr}`);
  return result.stdout;
}

/**
 * A local stand-in for a Dockerfile's base image, made on first use and kept: "node" (this
 * machine's Node, for NODE_IMAGE) or "debian" (a minimal Debian of this machine's release).
 */
export async function baseImage(kind: "node" | "debian"): Promise<string> {
  const image = kind === "node" ? `localhost/node-base:${process.versions.node.split(".")[0]}` : `localhost/debian-base:${debianCodename()}`;
  const result = await run("bash", [path.join(packageRoot, "test", "support", "base-images.sh"), kind, image]);
  if (result.code !== 0) throw new Error(`making the ${kind} base image failed:\n${result.stdout}\n${result.stderr}`);
  return image;
}

function debianCodename(): string {
  return /^VERSION_CODENAME=(\S+)$/m.exec(readFileSync("/etc/os-release", "utf8"))?.[1] ?? "stable";
}

/**
 * Builds `context`'s Dockerfile as `tag` (the docker format keeps HEALTHCHECK; with vfs every
 * cached layer would be a full copy) and removes the image the tag named before, which would
 * otherwise be left behind untagged at every run. With `reuse`, an image built before from the
 * same files in `context`, the same build arguments and the same base images is kept instead
 * (as a layer cache would): for a small context that seldom changes, such as the example app,
 * whose build spends most of its time downloading Debian packages.
 */
export async function buildImage(context: string, tag: string, buildArgs: Record<string, string>, options: { reuse?: boolean } = {}): Promise<"built" | "reused"> {
  const inspect = async (format: string) => (await podmanRun(["image", "inspect", "--format", format, tag])).stdout.trim();
  const previous = await inspect("{{.Id}}");
  const inputs = options.reuse ? await inputsHash(context, buildArgs) : undefined;
  if (inputs && previous && (await inspect(`{{index .Labels "${INPUTS_LABEL}"}}`)) === inputs) return "reused";
  const args = Object.entries(buildArgs).flatMap(([k, v]) => ["--build-arg", `${k}=${v}`]);
  const label = inputs ? ["--label", `${INPUTS_LABEL}=${inputs}`] : [];
  await podman(["build", "--format", "docker", "--layers=false", "--network", "host", ...args, ...label, "-t", tag, context]);
  if (previous && previous !== (await inspect("{{.Id}}"))) await podmanRun(["rmi", previous]); // refused while a container uses it: kept then
  return "built";
}

const INPUTS_LABEL = "padlock.test.inputs";

/** SHA-256 of every file in `context` (names and contents), the build arguments and the images they name. */
async function inputsHash(context: string, buildArgs: Record<string, string>): Promise<string> {
  const hash = createHash("sha256");
  const walk = (dir: string): string[] => readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(dir, e.name)) : [path.join(dir, e.name)]));
  for (const file of walk(context).sort()) hash.update(`${path.relative(context, file)}\0`).update(readFileSync(file)).update("\0");
  for (const [name, value] of Object.entries(buildArgs).sort()) {
    const image = (await podmanRun(["image", "inspect", "--format", "{{.Id}}", value])).stdout.trim();
    hash.update(`${name}=${value} ${image}\0`);
  }
  return hash.digest("hex");
}

/** Image size in bytes, as podman counts it (every layer, the base's included). */
export async function imageSize(image: string): Promise<number> {
  return Number((await podman(["image", "inspect", "--format", "{{.Size}}", image])).trim());
}
