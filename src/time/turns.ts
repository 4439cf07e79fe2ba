// Work that may run only so many at a time: start-up reads thousands of stored sets, asks the
// CA's ARI for each and has the internal CA issue for every site, and doing all at once holds
// everything in memory together and keeps the event loop from the first visitors.

export class Turns {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly atOnce: number) {}

  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.running < this.atOnce) this.running++;
    else await new Promise<void>((turn) => this.waiting.push(turn));
    try {
      return await work();
    } finally {
      // The turn passes straight to the next in line, or the slot is freed.
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    }
  }
}
