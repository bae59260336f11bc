/**
 * Hugging Face Hub models by name: `org/name[@revision]` → a folder in the standard HF cache (shared with
 * Python tools), downloaded with @huggingface/hub, resumable and checksum-verified. See docs/hub.md.
 */
export { parseModelRef, formatModelRef, isValidRepoId, DEFAULT_REVISION, type ModelRef } from "./model-ref.js";
export { resolveModel, resolveHubModel, isHubOffline, hubUrlOf, hubTokenOf, DEFAULT_HUB_URL, type ResolveModelOptions, type ResolvedModel, type DownloadProgress } from "./resolve-model.js";
export { hubCacheDir, repoCacheDir, isSnapshotComplete } from "./cache-layout.js";
export { selectModelFiles, isNeededFile, type ModelPurpose } from "./select-files.js";
