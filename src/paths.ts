// Where the package's own files are, whether run from a clone (dist/src/…) or an install.
import { fileURLToPath } from "node:url";
import path from "node:path";

export const packageRoot = path.resolve(fileURLToPath(new URL(".", import.meta.url)), "../..");
export const exampleBlogDir = path.join(packageRoot, "examples", "blog");
export const defaultThemeDir = path.join(packageRoot, "themes", "default");
