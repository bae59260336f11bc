import { isChatRecord, readVersion } from "../data/index.js";
import type { Model, Workspace } from "../registry/index.js";

/** How a registered model expects its prompts: as a chat (with the template it was trained with) or as text. */
export interface TrainedPromptFormat {
  chat: boolean;
  /** The run's `template` (train.yaml); undefined = the model's own, else chatml, as training chose. */
  template?: string;
  /** Why: "chat dataset", "text dataset", "not a fine-tune", … (for notes and --json). */
  reason: string;
}

/**
 * Reads, from the registry, the prompt format a fine-tune learned: a model trained on a chat dataset version is
 * asked through the chat template of its run; a text fine-tune and a base model continue plain text. The dataset
 * kind is that of the version's first record (a version is one kind in practice: import produces one); only
 * that record is read. A registration without a dataset version, or whose version is gone, counts as text.
 */
export async function trainedPromptFormat(ws: Pick<Workspace, "registry" | "artifacts">, model: Model): Promise<TrainedPromptFormat> {
  if (model.kind !== "fine_tuned") return { chat: false, reason: "a base model" };
  let template: string | undefined;
  if (model.runId) {
    const run = await ws.registry.getRun(model.runId).catch(() => null);
    const value = (run?.config as { template?: unknown } | null)?.template;
    if (typeof value === "string") template = value;
  }
  if (!model.datasetVersionId) return { chat: false, template, reason: "no dataset version recorded" };
  const version = await ws.registry.getDatasetVersion(model.datasetVersionId).catch(() => null);
  if (!version) return { chat: false, template, reason: `dataset version ${model.datasetVersionId} not found` };
  for await (const record of readVersion(ws, version)) {
    const chat = isChatRecord(record);
    return { chat, template, reason: `trained on ${chat ? "chat" : "text"} dataset ${version.datasetName}@${version.number}` };
  }
  return { chat: false, template, reason: `dataset ${version.datasetName}@${version.number} is empty` };
}
