import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { REPO_ROOT, makeTempDir } from "../test-support/paths.js";
import { LORA_TARGET_MODULES, MODEL_SUPPORT_FILE, SUPPORTED_ARCHITECTURES, readModelSupport } from "./model-support.js";
import { loraProjectionShapes } from "./plan.js";
import { parseTrainSpec } from "./spec.js";
import { toWorkerTrainParams } from "./train-params.js";
import { CONTRACT_COMMAND, CONTRACT_FILE, WorkerTrainParamsSchema, renderWorkerParamsContract, workerParamsContract } from "./worker-params.js";

const paths = { modelDir: "/m", dataDir: "/d", outputDir: "/o" };

describe("worker params contract", () => {
  it("the checked-in contract file is what the zod schemas generate", () => {
    const committed = readFileSync(join(REPO_ROOT, CONTRACT_FILE), "utf8");
    expect(committed, `${CONTRACT_FILE} is stale: run \`${CONTRACT_COMMAND}\` and commit it`).toBe(renderWorkerParamsContract());
  });

  it("the generator's --check agrees", () => {
    const res = spawnSync(process.execPath, ["--import", "tsx", join(REPO_ROOT, "scripts", "generate-contract.ts"), "--check"], { cwd: REPO_ROOT, encoding: "utf8", timeout: 60_000 });
    expect({ status: res.status, stdout: res.stdout, stderr: res.stderr }).toEqual({ status: 0, stdout: "", stderr: "" });
  });

  it("fills every train default from the three folders alone", () => {
    expect(WorkerTrainParamsSchema.parse({ model_dir: "/m", data_dir: "/d", output_dir: "/o" })).toEqual({
      model_dir: "/m",
      data_dir: "/d",
      output_dir: "/o",
      resume_from: null,
      init_adapter: null,
      method: "lora",
      quantize: "none",
      double_quant: false,
      objective: "sft",
      dpo: { beta: 0.1, loss: "sigmoid", reference_free: false },
      orpo: { beta: 0.1 },
      lora: { r: 8, alpha: 16, dropout: 0, target_modules: ["q_proj", "v_proj"], use_rslora: false },
      optimizer: { lr: 2e-4, weight_decay: 0, betas: [0.9, 0.999], eps: 1e-8 },
      schedule: { type: "cosine", warmup_steps: 0, min_lr_ratio: 0 },
      batch_size: 8,
      grad_accum: 1,
      epochs: 1,
      max_steps: null,
      max_grad_norm: 1,
      gradient_checkpointing: false,
      distributed: "ddp",
      compile: null,
      seed: 42,
      eval: { every_steps: 50, max_batches: null },
      early_stopping: null,
      checkpoint: { every_steps: 50, keep_last: 2 },
      device: "auto",
      dtype: "auto",
      log_every: 1,
    });
  });

  it("maps a train.yaml spec onto the worker's params, defaults from the same schema", () => {
    const spec = parseTrainSpec({ model: "m", dataset: "d", lora: { r: 4, targetModules: ["q_proj"] }, eval: { enabled: false }, earlyStopping: { patience: 2 }, maxSteps: 7 });
    expect(toWorkerTrainParams(spec, { ...paths, resumeFrom: "/o" })).toEqual({
      ...WorkerTrainParamsSchema.parse({ model_dir: "/m", data_dir: "/d", output_dir: "/o" }),
      resume_from: "/o",
      lora: { r: 4, alpha: 16, dropout: 0, target_modules: ["q_proj"], use_rslora: false },
      max_steps: 7,
      eval: { every_steps: null, max_batches: null },
      early_stopping: { patience: 2, min_delta: 0 },
    });
  });

  it("the worker accepts what TypeScript sends, unchanged (Python validator over the same file)", () => {
    const spec = parseTrainSpec({ model: "m", dataset: "d", method: "full", gradientCheckpointing: 2, optimizer: { betas: [0.8, 0.9] } });
    const sent = toWorkerTrainParams(spec, paths);
    const script = [
      "import json, sys",
      "sys.path.insert(0, 'worker')",
      "from tunekit_worker.contract import check_params",
      "filled, problems = check_params('train', json.loads(sys.stdin.read()))",
      "print(json.dumps({'filled': filled, 'problems': problems}))",
    ].join("\n");
    const res = spawnSync("/usr/bin/python3", ["-c", script], { cwd: REPO_ROOT, input: JSON.stringify(sent), encoding: "utf8", timeout: 60_000 });
    expect(res.stderr).toBe("");
    expect(JSON.parse(res.stdout)).toEqual({ filled: sent, problems: [] });
  });

  it("carries the worker's LoRA target list, and the plan has a shape for each", () => {
    const support = JSON.parse(readFileSync(join(REPO_ROOT, MODEL_SUPPORT_FILE), "utf8")) as { architectures: string[]; lora_target_modules: string[] };
    expect({ architectures: SUPPORTED_ARCHITECTURES, targets: LORA_TARGET_MODULES }).toEqual({ architectures: support.architectures, targets: support.lora_target_modules });
    const train = (workerParamsContract().methods as Record<string, { properties: Record<string, { properties: Record<string, { anyOf: { items?: { enum: string[] } }[] }> }> }>).train;
    expect(train.properties.lora.properties.target_modules.anyOf[0].items?.enum).toEqual(support.lora_target_modules);
    const c = { hidden_size: 8, intermediate_size: 16, num_hidden_layers: 1, num_attention_heads: 2, vocab_size: 10 };
    expect(Object.keys(loraProjectionShapes(c)).sort()).toEqual([...support.lora_target_modules].sort());
  });
});

describe("readModelSupport", () => {
  it("refuses a list that is missing or empty, naming the file and the key", () => {
    const file = join(makeTempDir(), "model-support.json");
    writeFileSync(file, JSON.stringify({ architectures: [], lora_target_modules: ["q_proj"] }));
    expect(() => readModelSupport(file)).toThrow(`${file}: architectures must be a non-empty list of names, got []`);
  });

  it("reads both lists", () => {
    const file = join(makeTempDir(), "model-support.json");
    writeFileSync(file, JSON.stringify({ architectures: ["A"], lora_target_modules: ["q_proj"] }));
    expect(readModelSupport(file)).toEqual({ architectures: ["A"], loraTargetModules: ["q_proj"] });
  });
});
