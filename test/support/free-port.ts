// A port nothing listens on right now, for servers that must be told their port in advance
// (Pebble's challenge ports, a padlock spawned with a fixed port).
//
// Chosen below the kernel's ephemeral range (32768-60999): a port handed out by `listen(0)` is
// released again before its user binds it, and in that gap any outgoing connection may take it
// as its local port. Ports in 20000-32767 are never handed out that way.
import net from "node:net";

const LOW = 20000;
const HIGH = 32767;

export async function freePort(host = "127.0.0.1"): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = LOW + Math.floor(Math.random() * (HIGH - LOW));
    if (await canBind(port, host)) return port;
  }
  throw new Error(`no free port found in ${LOW}-${HIGH} on ${host}`);
}

function canBind(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once("error", () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}
