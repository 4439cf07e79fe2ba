import { Config } from "../config/schema.js";

export function schemaCommand(): void {
  process.stdout.write(JSON.stringify({ $schema: "http://json-schema.org/draft-07/schema#", ...Config }, null, 2) + "\n");
}
