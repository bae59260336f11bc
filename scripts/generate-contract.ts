/**
 * Writes the TS↔Python contract, worker/tunekit_worker/contract/worker-params.schema.json, from the zod schemas
 * in src/train/worker-params.ts (the worker validates every request against it and takes its defaults from it).
 *
 *   npx tsx scripts/generate-contract.ts          # rewrite
 *   npx tsx scripts/generate-contract.ts --check  # exit 1 when the committed file differs
 * src/train/worker-params.test.ts runs the check in CI.
 */
import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { CONTRACT_COMMAND, CONTRACT_FILE, renderWorkerParamsContract } from "../src/train/worker-params.js";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const path = join(ROOT, CONTRACT_FILE);
const fresh = renderWorkerParamsContract();

if (process.argv.includes("--check")) {
  let current: string | null = null;
  try {
    current = readFileSync(path, "utf8");
  } catch {
    // missing: reported below like a stale file
  }
  if (current !== fresh) {
    process.stdout.write(`${CONTRACT_FILE} is out of date with src/train/worker-params.ts: run \`${CONTRACT_COMMAND}\` and commit the result\n`);
    process.exit(1);
  }
} else {
  // Atomic: the worker may be reading the file while this runs.
  writeFileSync(`${path}.tmp`, fresh);
  renameSync(`${path}.tmp`, path);
  process.stdout.write(`wrote ${CONTRACT_FILE}\n`);
}
