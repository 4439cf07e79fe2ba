// A load generator: several loops of HTTPS requests, each on a new connection (a new handshake,
// so each sees the certificate installed at that moment), verified against the CA's root.
import { httpsGet } from "./clients.js";

export interface LoadResult {
  ok: number;
  failed: string[];
  serials: string[];
}

/** `pauseMs` between requests keeps the generator from starving the server it shares a process with. */
export function startLoad(names: string[], port: number, rootPem: string, loops = 3, pauseMs = 10): { result: LoadResult; stop: () => Promise<LoadResult> } {
  const result: LoadResult = { ok: 0, failed: [], serials: [] };
  let running = true;
  const loop = async (i: number) => {
    while (running) {
      const name = names[i % names.length]!;
      try {
        const answer = await httpsGet(name, port, rootPem);
        result.ok++;
        if (result.serials.at(-1) !== answer.serial) result.serials.push(answer.serial);
      } catch (err) {
        result.failed.push(`${name}: ${(err as Error).message}`);
      }
      await new Promise((r) => setTimeout(r, pauseMs));
    }
  };
  const done = Promise.all(Array.from({ length: loops }, (_, i) => loop(i)));
  return {
    result,
    stop: async () => {
      running = false;
      await done;
      return result;
    },
  };
}
