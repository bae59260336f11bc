#!/usr/bin/env node
// In a source checkout (src/ present) run the TypeScript sources through tsx, so the CLI is never a stale
// build; an installed package has only dist/ and runs the compiled code.
import { existsSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";
import { dirname, join } from "node:path";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const source = join(root, "src", "cli", "run.ts");
if (existsSync(source) && process.env.TUNEKIT_USE_DIST !== "1") {
  const { register } = await import("tsx/esm/api");
  register();
  await import(pathToFileURL(source).href);
} else {
  await import(pathToFileURL(join(root, "dist", "cli", "run.js")).href);
}
