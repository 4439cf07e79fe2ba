// Paths the tests share: the repository, the CLI, and the shared test data beside the clone.
import path from "node:path";
import { fileURLToPath } from "node:url";

export const repoRoot = path.resolve(fileURLToPath(new URL(".", import.meta.url)), "../../..");
export const cliPath = path.join(repoRoot, "bin", "padlock");
export const sharedDir = path.resolve(repoRoot, "../shared");
export const corpusSite = path.join(sharedDir, "corpus", "flask_site");
