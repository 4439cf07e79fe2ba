// `padlock serve` starts with a burst of allocation the rest of its life does not repeat: every
// stored certificate read, parsed and installed within a second or so. Its garbage sits in V8's
// old generation until the heap grows past its next limit, which a server at rest may not reach
// for hours, so the memory stayed resident. One full collection once padlock has started
// returns it to the system (tens of milliseconds, once, before most visitors arrive).
// Only the command does this: a program using padlock as a library runs its own process.
import v8 from "node:v8";
import vm from "node:vm";

export async function collectAfterStart<T>(start: () => Promise<T>): Promise<T> {
  const started = await start();
  collectGarbage();
  return started;
}

/** A full collection without running node with --expose-gc: gc() exists in contexts created while the flag is set. */
function collectGarbage(): void {
  v8.setFlagsFromString("--expose-gc");
  const gc = vm.runInNewContext("gc") as () => void;
  v8.setFlagsFromString("--no-expose-gc");
  gc();
}
