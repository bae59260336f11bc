import type { ListFileEntry } from "@huggingface/hub";
import { NotFoundError } from "../errors/index.js";

/**
 * The files of a Hub repo that tunekit (and the worker) reads. Repos often carry the same weights several
 * times (pytorch_model.bin, *.pt, onnx/, gguf, openvino/…); only the safetensors copy is fetched, and only
 * root-level files, so a 1.5B model costs one download of its weights, not four.
 */
const NEEDED = new Set([
  "config.json",
  "generation_config.json",
  "tokenizer.json",
  "tokenizer_config.json",
  "special_tokens_map.json",
  "added_tokens.json",
  "chat_template.jinja",
  "chat_template.json",
  "model.safetensors.index.json",
]);

/**
 * What a caller needs: `model` (generate, train, eval, serve) the whole model; `tokenizer` (data preview and
 * compile) only config and tokenizer files, so looking at tokens never costs a download of the weights; `plan`
 * (train --dry-run) the same files, but the repo must have safetensors weights for the plan to be valid.
 */
export type ModelPurpose = "model" | "tokenizer" | "plan";

export function isNeededFile(path: string, purpose: ModelPurpose = "model"): boolean {
  if (path.includes("/")) return false;
  const weights = path.endsWith(".safetensors") || path === "model.safetensors.index.json";
  return purpose === "model" ? NEEDED.has(path) || weights : NEEDED.has(path) && !weights;
}

/** Picks the needed files from a tree listing; a repo without config.json, tokenizer.json or (for a model) safetensors is refused. */
export function selectModelFiles(entries: readonly ListFileEntry[], where: { repo: string; revision: string }, purpose: ModelPurpose = "model"): ListFileEntry[] {
  const files = entries.filter((e) => e.type === "file" && isNeededFile(e.path, purpose));
  const names = new Set(files.map((f) => f.path));
  const missing: string[] = [];
  if (!names.has("config.json")) missing.push("config.json");
  if (!names.has("tokenizer.json")) missing.push("tokenizer.json");
  const hasWeights = entries.some((e) => e.type === "file" && !e.path.includes("/") && e.path.endsWith(".safetensors"));
  if (purpose !== "tokenizer" && !hasWeights) missing.push("*.safetensors weights");
  if (missing.length) {
    const has = entries.filter((e) => e.type === "file").map((e) => e.path).slice(0, 12).join(", ");
    throw new NotFoundError("HUB_MODEL_FILES_MISSING", `${where.repo}@${where.revision} has no ${missing.join(", ")} (it has: ${has || "no files"})`, {
      fix: "tunekit reads Hugging Face folders with config.json, tokenizer.json and safetensors weights; pick a repo that has them (often the original, not a GGUF/ONNX conversion), or convert one and pass the folder",
      details: { repo: where.repo, revision: where.revision, missing },
    });
  }
  // Code-point order, so the download order (and the progress it reports) does not depend on the locale.
  return files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}
