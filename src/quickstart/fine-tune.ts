import { ConflictError } from "../errors/index.js";
import type { Model, Run, Workspace } from "../registry/index.js";
import { startTrainRun, resolveTrainSpec, parseTrainSpec, type TrainSpec } from "../train/index.js";
import type { TrainResult } from "../runtime/index.js";
import type { QuickstartSizes } from "./options.js";
import type { QuickstartReporter } from "./reporter.js";

/**
 * LoRA on every projection (r 16, alpha 32) with a high learning rate: the demo model is tiny and the house
 * style is a narrow target, so six epochs (~78 optimizer steps of 8 × 256 packed tokens, ~2 min) learn it on 2
 * CPU cores; three epochs learn the style but not which next step a request needs. Validation loss every 10 steps; the adapter is exported at the end and registered as a model.
 */
export function quickstartTrainSpec(input: { modelDir: string; dataset: string; sizes: QuickstartSizes; seed: number; device: string; name: string }): TrainSpec {
  return parseTrainSpec(
    {
      name: input.name,
      model: input.modelDir,
      dataset: input.dataset,
      method: "lora",
      lora: { r: 16, alpha: 32, targetModules: ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"] },
      optimizer: { lr: input.sizes.lr ?? 4e-3 },
      schedule: { type: "cosine", warmupSteps: 4, minLrRatio: 0.1 },
      batchSize: 8,
      epochs: input.sizes.epochs,
      maxSteps: input.sizes.maxSteps,
      seqLen: 256,
      eval: { everySteps: 10 },
      checkpoint: { everySteps: 20, keepLast: 1 },
      seed: input.seed,
      device: input.device,
      dtype: input.device === "cpu" ? "float32" : "auto",
    },
    "quickstart train spec",
  );
}

export async function fineTune(ws: Workspace, spec: TrainSpec, report: QuickstartReporter): Promise<{ run: Run; model: Model; result: TrainResult }> {
  const resolved = await resolveTrainSpec(ws, spec, "quickstart train spec");
  let bar: ReturnType<QuickstartReporter["progress"]> | null = null;
  let lastVal: number | null = null;
  const started = performance.now();
  const outcome = await startTrainRun(ws, resolved, {
    onRun: (run) => report.line(`  run ${run.id} (LoRA r ${spec.lora.r} on ${spec.lora.targetModules.length} projections, lr ${spec.optimizer.lr}, ${spec.maxSteps ? `${spec.maxSteps} steps` : `${spec.epochs} epochs`}, ${spec.device})`),
    onProgress: (e) => {
      bar ??= report.progress({ total: e.total_steps, label: "train" });
      bar.tick(e.step, { loss: e.loss === null ? "nan" : e.loss.toFixed(3), ...(lastVal === null ? {} : { "val loss": lastVal.toFixed(3) }), "tok/s": Math.round(e.tokens_per_s) });
    },
    onEvent: (e) => {
      if (e.event === "metric" && e.name === "val/loss" && e.value !== null) lastVal = e.value;
    },
  });
  (bar as ReturnType<QuickstartReporter["progress"]> | null)?.done();
  const { run, model, result } = outcome;
  if (!model || !result || run.status !== "succeeded") {
    throw new ConflictError("QUICKSTART_TRAIN_INCOMPLETE", `training run ${run.id} ended ${run.status}`, { fix: `resume it with \`tunekit runs resume ${run.id}\`, then run the quickstart again` });
  }
  const first = await ws.registry.listRunEvents(run.id, { type: "metric", name: "val/loss", limit: 1 });
  report.line(`  ${result.steps} steps in ${((performance.now() - started) / 1000).toFixed(0)} s: train loss ${result.final_train_loss?.toFixed(3)}, val loss ${first[0]?.value?.toFixed(3) ?? "?"} → ${result.best_val_loss?.toFixed(3)} (best at step ${result.best_step})`);
  report.line(`  adapter registered as model ${model.name} → ${model.path}`);
  return { run, model, result };
}
