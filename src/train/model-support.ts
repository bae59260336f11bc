import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * What the worker implements, read from the worker package itself
 * (worker/tunekit_worker/contract/model-support.json): the config.json architectures it can load and the
 * projections LoRA can wrap. The worker reads the same file, so the two sides cannot list different models.
 * The file sits outside src/ (the Python package ships it), hence a read rather than a JSON import.
 */
export const MODEL_SUPPORT_FILE = join("worker", "tunekit_worker", "contract", "model-support.json");

export interface ModelSupport {
  architectures: [string, ...string[]];
  loraTargetModules: [string, ...string[]];
}

/** `<package root>/worker/tunekit_worker/contract/model-support.json`, walking up so it works from src/ and dist/. */
export function findModelSupportFile(from: string = fileURLToPath(import.meta.url)): string {
  let dir = dirname(from);
  for (;;) {
    const candidate = join(dir, MODEL_SUPPORT_FILE);
    if (existsSync(candidate)) return candidate;
    const parent = dirname(dir);
    // Not a user error: the npm package always ships the worker folder. Thrown at import, so a plain Error.
    if (parent === dir) throw new Error(`${MODEL_SUPPORT_FILE} was not found above ${from}; reinstall tunekit (the npm package ships worker/tunekit_worker)`);
    dir = parent;
  }
}

export function readModelSupport(path: string = findModelSupportFile()): ModelSupport {
  const raw = JSON.parse(readFileSync(path, "utf8")) as { architectures?: unknown; lora_target_modules?: unknown };
  const list = (value: unknown, key: string): [string, ...string[]] => {
    if (!Array.isArray(value) || value.length === 0 || !value.every((v) => typeof v === "string" && v !== "")) {
      throw new Error(`${path}: ${key} must be a non-empty list of names, got ${JSON.stringify(value)}`);
    }
    return value as [string, ...string[]];
  };
  return { architectures: list(raw.architectures, "architectures"), loraTargetModules: list(raw.lora_target_modules, "lora_target_modules") };
}

const SUPPORT = readModelSupport();
/** config.json `architectures` values the worker can load (models/config.py). */
export const SUPPORTED_ARCHITECTURES: readonly [string, ...string[]] = SUPPORT.architectures;
/** Projection names LoRA can wrap (lora.py), as PEFT names them. */
export const LORA_TARGET_MODULES: readonly [string, ...string[]] = SUPPORT.loraTargetModules;
