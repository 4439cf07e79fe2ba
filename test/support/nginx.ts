// Debian's nginx on a chosen loopback port, answering 404 for everything (as a web server
// does for a challenge file it does not have): the "other server holding port 80" of the seed.
import { spawn, type ChildProcess } from "node:child_process";
import { writeFileSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import { tempDir } from "./env.js";
import { stopProcess } from "./processes.js";

export class Nginx {
  private constructor(private readonly child: ChildProcess, private readonly tmp: { remove(): void }, readonly port: number) {}

  /** `servers` replaces the default server block (which answers 404 from an empty root); `${dir}` in it is nginx's folder. */
  static async start(port: number, servers?: (dir: string) => string): Promise<Nginx> {
    const tmp = tempDir("nginx");
    const dir = tmp.dir;
    const conf = path.join(dir, "nginx.conf");
    writeFileSync(
      conf,
      `daemon off;
master_process off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy; fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;
  ${servers ? servers(dir) : `server { listen 127.0.0.1:${port}; root ${dir}/www; }`}
}
`,
    );
    const child = spawn("nginx", ["-c", conf, "-p", dir, "-e", `${dir}/error.log`], { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr!.on("data", (d: Buffer) => (stderr += d));
    const nginx = new Nginx(child, tmp, port);
    const deadline = Date.now() + 10_000;
    while (!(await accepts(port))) {
      if (child.exitCode !== null || Date.now() > deadline) {
        await nginx.close();
        throw new Error(`nginx did not start on port ${port}: ${stderr}`);
      }
      await new Promise((r) => setTimeout(r, 25));
    }
    return nginx;
  }

  get pid(): number {
    return this.child.pid!;
  }

  async close(): Promise<void> {
    await stopProcess(this.child, "SIGQUIT");
    this.tmp.remove();
  }
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}
