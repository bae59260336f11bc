import type { TrainSpec } from "./spec.js";
import { WorkerTrainParamsSchema, type WorkerTrainParams, type WorkerTrainParamsInput } from "./worker-params.js";

/**
 * The worker's `train` params for a spec: train.yaml's keys renamed to the contract's, then parsed by the
 * contract schema (worker-params.ts), so what is sent is exactly what the worker's schema accepts. The input
 * type makes a misspelt or missing key a compile error; the parse catches a value the two schemas disagree on.
 */
export function toWorkerTrainParams(
  spec: TrainSpec,
  paths: { modelDir: string; dataDir: string; outputDir: string; resumeFrom?: string | null; initAdapter?: string | null },
): WorkerTrainParams {
  const input: Required<WorkerTrainParamsInput> = {
    model_dir: paths.modelDir,
    data_dir: paths.dataDir,
    output_dir: paths.outputDir,
    resume_from: paths.resumeFrom ?? null,
    init_adapter: paths.initAdapter ?? null,
    method: spec.method,
    quantize: spec.quantize,
    double_quant: spec.doubleQuant,
    objective: spec.objective,
    dpo: { beta: spec.dpo.beta, loss: spec.dpo.loss, reference_free: spec.dpo.referenceFree },
    orpo: { beta: spec.orpo.beta },
    lora: { r: spec.lora.r, alpha: spec.lora.alpha, dropout: spec.lora.dropout, target_modules: spec.lora.targetModules, use_rslora: spec.lora.useRslora },
    optimizer: { lr: spec.optimizer.lr, weight_decay: spec.optimizer.weightDecay, betas: spec.optimizer.betas, eps: spec.optimizer.eps },
    schedule: { type: spec.schedule.type, warmup_steps: spec.schedule.warmupSteps, min_lr_ratio: spec.schedule.minLrRatio },
    batch_size: spec.batchSize,
    grad_accum: spec.gradAccum,
    epochs: spec.epochs,
    max_steps: spec.maxSteps,
    max_grad_norm: spec.maxGradNorm,
    gradient_checkpointing: spec.gradientCheckpointing,
    distributed: spec.distributed,
    // train.yaml has no compile key: the worker decides (on for CUDA with torch >= 2.2).
    compile: null,
    seed: spec.seed,
    // every_steps null: the worker still evaluates at the last step when a val shard exists.
    eval: { every_steps: spec.eval.enabled ? spec.eval.everySteps : null, max_batches: spec.eval.maxBatches },
    early_stopping: spec.earlyStopping ? { patience: spec.earlyStopping.patience, min_delta: spec.earlyStopping.minDelta } : null,
    checkpoint: { every_steps: spec.checkpoint.everySteps, keep_last: spec.checkpoint.keepLast },
    device: spec.device,
    dtype: spec.dtype,
    log_every: spec.logEvery,
  };
  return WorkerTrainParamsSchema.parse(input);
}

/** Micro-batches per epoch and optimizer steps, exactly as the worker computes them (single process). */
export function stepsFor(spec: Pick<TrainSpec, "batchSize" | "gradAccum" | "epochs" | "maxSteps">, trainSequences: number, worldSize = 1) {
  const global = spec.batchSize * worldSize;
  const full = Math.floor(trainSequences / global);
  const rest = trainSequences % global;
  const batchesPerEpoch = full + (Math.floor(rest / worldSize) > 0 ? 1 : 0);
  const totalSteps = spec.maxSteps ?? Math.max(1, Math.ceil((batchesPerEpoch * spec.epochs) / spec.gradAccum));
  return { batchesPerEpoch, stepsPerEpoch: Math.max(1, Math.ceil(batchesPerEpoch / spec.gradAccum)), totalSteps };
}
