import { existsSync } from "node:fs";
import { basename, join } from "node:path";
import type { Model, Run, Workspace } from "../registry/index.js";
import type { ModelSource, ResolvedTrainSpec } from "./spec-check.js";
import type { TrainResult } from "../runtime/index.js";

/**
 * The base model's registry entry (kind base, provider local), found by path or created. A Hub snapshot's folder
 * is named by its commit, so its entry is named org/name@<commit prefix> and records the repo and commit.
 */
export async function ensureBaseModel(ws: Workspace, modelDir: string, architecture: string | undefined, source?: ModelSource): Promise<Model> {
  const existing = (await ws.registry.listModels()).find((m) => m.kind === "base" && m.provider === "local" && m.path === modelDir);
  if (existing) return existing;
  const name = await freeName(ws, source ? `${source.repo}@${source.commit.slice(0, 12)}` : basename(modelDir));
  return ws.registry.createModel({ name, kind: "base", provider: "local", path: modelDir, meta: source ? { architecture, hub: source } : { architecture } });
}

/**
 * Registers a finished run's output as a fine-tuned model with its lineage (base model, run, dataset version)
 * and stores the adapter files as artifacts of the run. A full fine-tune's folder is referenced by path.
 */
export async function registerFineTunedModel(ws: Workspace, run: Run, resolved: ResolvedTrainSpec, result: TrainResult): Promise<Model> {
  const base = await ensureBaseModel(ws, resolved.modelDir, resolved.modelConfig.architectures?.[0], resolved.modelSource);
  const adapterFiles: Record<string, string> = {};
  if (result.adapter_dir) {
    for (const file of ["adapter_config.json", "adapter_model.safetensors"]) {
      const path = join(result.adapter_dir, file);
      if (!existsSync(path)) continue;
      const artifact = await ws.artifacts.putFile(path, {
        kind: "adapter",
        ext: file.split(".").pop(),
        runId: run.id,
        meta: { file, step: result.exported_step },
      });
      adapterFiles[file] = artifact.id;
    }
  }
  const baseName = resolved.modelSource ? resolved.modelSource.repo.split("/")[1] : basename(resolved.modelDir);
  const name = await freeName(ws, resolved.spec.name ?? `${baseName}-${run.id}`);
  // init_adapter: the model this run continued from, when its adapter folder is a registered model's.
  const parent = resolved.initAdapterDir ? (await ws.registry.listModels()).find((m) => m.kind === "fine_tuned" && m.path === resolved.initAdapterDir) : undefined;
  const initAdapter = resolved.initAdapterDir ? { initAdapter: { dir: resolved.initAdapterDir, modelId: parent?.id ?? null, runId: parent?.runId ?? null } } : {};
  return ws.registry.createModel({
    name,
    kind: "fine_tuned",
    provider: "local",
    path: result.adapter_dir ?? result.model_dir ?? result.output_dir,
    baseModelId: base.id,
    runId: run.id,
    datasetVersionId: resolved.version.id,
    meta: {
      method: resolved.spec.method,
      objective: resolved.spec.objective,
      ...initAdapter,
      adapter: result.adapter_dir !== null && result.adapter_dir !== undefined,
      baseModelDir: resolved.modelDir,
      exportedStep: result.exported_step,
      bestStep: result.best_step,
      bestValLoss: result.best_val_loss,
      artifacts: adapterFiles,
    },
  });
}

async function freeName(ws: Workspace, wanted: string): Promise<string> {
  const taken = new Set((await ws.registry.listModels()).map((m) => m.name));
  if (!taken.has(wanted)) return wanted;
  for (let i = 2; ; i++) if (!taken.has(`${wanted}-${i}`)) return `${wanted}-${i}`;
}
