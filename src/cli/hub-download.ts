import { isTunekitError } from "../errors/index.js";
import { parseModelRef, resolveModel, type DownloadProgress, type ModelPurpose, type ResolvedModel } from "../hub/index.js";
import type { Output, ProgressHandle } from "./output.js";

const MIB = 1024 * 1024;
// Tenths of a MiB, so the bar's last tick equals its total (and piped output prints its 100% line).
const mib = (bytes: number) => Math.round((bytes / MIB) * 10) / 10;

/** Renders resolveModel's byte counts with the CLI's progress bar (MiB, the file being fetched). */
export function renderDownloadProgress(out: Output, label: string): { onProgress(p: DownloadProgress): void; finish(): void } {
  let bar: ProgressHandle | null = null;
  return {
    onProgress: (p) => {
      bar ??= out.progress({ total: mib(p.total), label: `downloading ${label} (MiB)` });
      bar.tick(mib(p.done), { file: p.path });
    },
    finish: () => bar?.done(),
  };
}

/**
 * A model folder or a Hub name (org/name[@rev]) as a folder, downloading into the HF cache with a progress bar.
 * The one place CLI commands turn a `--model` value into a folder.
 */
export async function resolveModelFolder(ref: string, out: Output, options: { baseDir?: string; refresh?: boolean; purpose?: ModelPurpose } = {}): Promise<ResolvedModel> {
  const progress = renderDownloadProgress(out, ref);
  try {
    const resolved = await resolveModel(ref, { ...options, onProgress: progress.onProgress });
    if (resolved.source === "hub") out.note(`${resolved.repo}@${resolved.revision} = commit ${resolved.commit} (${resolved.dir})`);
    return resolved;
  } finally {
    progress.finish();
  }
}

/**
 * Downloads a spec's Hub model (train.yaml `model:`) with a progress bar before the library's checks run; they
 * then find it in the cache. Errors are left to those checks, which report them with every other problem.
 */
export async function prefetchHubModel(model: unknown, baseDir: string, out: Output, purpose: ModelPurpose = "model"): Promise<void> {
  if (typeof model !== "string") return;
  try {
    if (parseModelRef(model, { baseDir }).kind !== "hub") return;
    await resolveModelFolder(model, out, { baseDir, purpose });
  } catch (e) {
    if (!isTunekitError(e)) throw e;
  }
}

/**
 * A `--model` value for commands that only read the tokenizer (data preview, data compile): a Hub name becomes
 * its snapshot with the tokenizer files only; anything else is returned as given, for the command's own checks.
 */
export async function tokenizerFolder(model: string, out: Output): Promise<string> {
  try {
    if (parseModelRef(model).kind !== "hub") return model;
  } catch {
    return model;
  }
  return (await resolveModelFolder(model, out, { purpose: "tokenizer" })).dir;
}
