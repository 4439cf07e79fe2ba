// Where the internal CA keeps its files, behind the smallest interface it needs, so it can move
// onto the shared certificate storage later. The folder implementation never leaves a
// half-written file: temp file, fsync, then rename (replace) or link (create-if-absent).
import { mkdir, readFile } from "node:fs/promises";
import path from "node:path";
import { createFile, replaceFile } from "../storage/atomic-file.js";

export interface KeyFileStore {
  /** The file's content, or undefined when it does not exist. */
  read(name: string): Promise<string | undefined>;
  /** Atomically replaces the file; `secret` files are readable by their owner only (0600). */
  write(name: string, data: string, options: { secret: boolean }): Promise<void>;
  /** Atomically creates the file unless it exists; false when someone else created it first. */
  create(name: string, data: string, options: { secret: boolean }): Promise<boolean>;
  /** Where the file is, for people (a path). */
  locate(name: string): string;
}

export class FolderKeyFileStore implements KeyFileStore {
  constructor(readonly dir: string) {}

  locate(name: string): string {
    return path.join(this.dir, name);
  }

  private ensureDir(): Promise<unknown> {
    return mkdir(this.dir, { recursive: true, mode: 0o700 });
  }

  async read(name: string): Promise<string | undefined> {
    try {
      return await readFile(this.locate(name), "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw err;
    }
  }

  async write(name: string, data: string, options: { secret: boolean }): Promise<void> {
    await this.ensureDir();
    await replaceFile(this.locate(name), data, options.secret ? 0o600 : 0o644);
  }

  async create(name: string, data: string, options: { secret: boolean }): Promise<boolean> {
    await this.ensureDir();
    return createFile(this.locate(name), data, options.secret ? 0o600 : 0o644);
  }
}
