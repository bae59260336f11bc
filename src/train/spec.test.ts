import { cpSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigError } from "../errors/index.js";
import { openWorkspace, type Workspace } from "../registry/index.js";
import { countLoraParameters, countParameters } from "./plan.js";
import { parseSetFlags, parseTrainSpec, trainSpecJsonSchema } from "./spec.js";
import { resolveTrainSpec, resolveTrainSpecInput, type ModelConfig } from "./spec-check.js";
import { STORIES260K, createStoriesWorkspace } from "./testing/train-fixtures.js";
import { stepsFor } from "./train-params.js";

function problemsOf(error: unknown) {
  expect(error).toBeInstanceOf(ConfigError);
  return ((error as ConfigError).details as { problems: unknown[] }).problems;
}

describe("train spec", () => {
  it("fills defaults from model and dataset alone", () => {
    const spec = parseTrainSpec({ model: "m", dataset: "d" });
    expect(spec).toMatchObject({ provider: "local", method: "lora", lora: { r: 8, alpha: 16, targetModules: ["q_proj", "v_proj"] }, batchSize: 8, eval: { enabled: true, everySteps: 50 }, earlyStopping: null });
  });

  it("reports every mistake at once", () => {
    const error = (() => {
      try {
        parseTrainSpec({ model: "m", method: "qlora", batchSize: 0, lora: { r: 8, targetModules: ["qproj"] }, lr: 0.1, provider: "vertex" }, "train.yaml");
      } catch (e) {
        return e;
      }
    })();
    expect(problemsOf(error)).toEqual([
      {
        path: "provider",
        value: "vertex",
        message: "unknown provider; available: local, openai, bedrock, together",
        fix: 'use one of: "local", "openai", "bedrock", "together"',
        source: "train.yaml",
      },
      { path: "dataset", value: undefined, message: "Invalid input: expected string, received undefined", fix: "set it to a string", source: "train.yaml" },
      { path: "method", value: "qlora", message: 'Invalid option: expected one of "lora"|"full"', fix: 'use one of: "lora", "full"', source: "train.yaml" },
      {
        path: "lora.targetModules[0]",
        value: "qproj",
        message: 'Invalid option: expected one of "q_proj"|"k_proj"|"v_proj"|"o_proj"|"gate_proj"|"up_proj"|"down_proj"|"qkv_proj"|"gate_up_proj"',
        fix: 'use one of: "q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj", "qkv_proj", "gate_up_proj"',
        source: "train.yaml",
      },
      { path: "batchSize", value: 0, message: "Too small: expected number to be >=1", fix: "use a value ≥ 1", source: "train.yaml" },
      { path: "lr", value: 0.1, message: 'unknown key "lr"', fix: "it belongs in the optimizer section: write it as optimizer.lr", source: "train.yaml" },
    ]);
    expect((error as ConfigError).message).toMatch(/^6 problems in the configuration:/);
  });

  it("takes quantize: nf4 for LoRA and refuses it where it cannot apply", () => {
    expect(parseTrainSpec({ model: "m", dataset: "d", quantize: "nf4", doubleQuant: true })).toMatchObject({ method: "lora", quantize: "nf4", doubleQuant: true });
    expect(parseTrainSpec({ model: "m", dataset: "d" })).toMatchObject({ quantize: "none", doubleQuant: false });
    const error = (() => {
      try {
        parseTrainSpec({ model: "m", dataset: "d", method: "full", quantize: "nf4" }, "train.yaml");
      } catch (e) {
        return e;
      }
    })();
    expect(problemsOf(error)).toEqual([
      {
        path: "quantize",
        value: "nf4",
        message: "quantize nf4 (QLoRA) trains LoRA adapters on a frozen 4-bit base, but method is full",
        fix: "use method: lora with quantize: nf4, or remove quantize for full fine-tuning",
        source: "train.yaml",
      },
    ]);
    expect(() => parseTrainSpec({ model: "m", dataset: "d", doubleQuant: true }, "t.yaml")).toThrow(/doubleQuant quantizes the NF4 block scales, but quantize is none/);
    expect(() => parseTrainSpec({ model: "m", dataset: "d", provider: "openai", quantize: "nf4" }, "t.yaml")).toThrow(/quantize nf4 runs in tunekit's worker; provider is openai/);
  });

  it("has a JSON Schema listing every key", () => {
    expect(Object.keys(trainSpecJsonSchema().properties as object)).toContain("earlyStopping");
  });

  it("parses --set pairs as YAML values into nested keys", () => {
    expect(parseSetFlags(["lora.r=16", "maxSteps=null", "packing=false", "lora.targetModules=[q_proj, k_proj]", "name=x=y"])).toEqual({
      lora: { r: 16, targetModules: ["q_proj", "k_proj"] },
      maxSteps: null,
      packing: false,
      name: "x=y",
    });
  });

  it("counts steps as the worker does", () => {
    expect(stepsFor({ batchSize: 4, gradAccum: 2, epochs: 2, maxSteps: null }, 35)).toEqual({ batchesPerEpoch: 9, stepsPerEpoch: 5, totalSteps: 9 });
    expect(stepsFor({ batchSize: 4, gradAccum: 1, epochs: 1, maxSteps: 3 }, 35).totalSteps).toBe(3);
  });

  it("counts stories260k's parameters from config.json", async () => {
    const { readFileSync } = await import("node:fs");
    const c = JSON.parse(readFileSync(join(STORIES260K, "config.json"), "utf8")) as ModelConfig;
    expect(countParameters(c)).toBe(260_032);
    // 5 layers × r 8 × (q 64+64, k 64+32, v 64+32, o 64+64)
    expect(countLoraParameters(c, 8, ["q_proj", "k_proj", "v_proj", "o_proj"])).toBe(17_920);
  });

  it("counts Gemma, Phi-3 and Qwen3-MoE parameters as the worker builds them (numel of its modules)", () => {
    const base = { hidden_size: 32, intermediate_size: 48, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, vocab_size: 64 };
    const all = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj", "qkv_proj", "gate_up_proj"];
    const gemma2 = { ...base, architectures: ["Gemma2ForCausalLM"], head_dim: 16 }; // tied by default
    const gemma3 = { ...gemma2, architectures: ["Gemma3ForCausalLM"], num_hidden_layers: 3, tie_word_embeddings: true };
    const phi3 = { ...base, architectures: ["Phi3ForCausalLM"], tie_word_embeddings: false };
    const moe = { ...base, architectures: ["Qwen3MoeForCausalLM"], head_dim: 16, num_experts: 4, num_experts_per_tok: 2, moe_intermediate_size: 24, decoder_sparse_step: 1, mlp_only_layers: [1] };
    // Worker: sum(p.numel()) and apply_lora(r=2, "all-linear") on CausalLM(parse_config(tiny_config(...))).
    expect([gemma2, gemma3, phi3, moe].map((c) => [countParameters(c), countLoraParameters(c, 2, all)])).toEqual([
      [23_840, 2_240],
      [34_816, 3_360],
      [19_616, 1_472],
      [30_560, 1_760],
    ]);
    expect(countParameters(moe, true)).toBe(30_560 - 2 * 3 * 32 * 24); // 2 of the 4 experts run per token
  });
});

describe("resolveTrainSpec", () => {
  let dir: string;
  let ws: Workspace;
  let scratch: string;
  beforeAll(async () => {
    dir = await createStoriesWorkspace();
    ws = await openWorkspace({ dir });
    scratch = mkdtempSync(join(tmpdir(), "tk-model-"));
  });
  afterAll(async () => {
    await ws.close();
    rmSync(dir, { recursive: true, force: true });
    rmSync(scratch, { recursive: true, force: true });
  });

  it("accepts the real model and dataset", async () => {
    const r = await resolveTrainSpec(ws, parseTrainSpec({ model: STORIES260K, dataset: "stories@1" }));
    expect(r.splits).toEqual({ train: 35, val: 7, test: 0, unassigned: 0, unknown: 0 });
    expect(r.modelConfig.architectures).toEqual(["LlamaForCausalLM"]);
  });

  it("reports every missing resource at once before any compute", async () => {
    const model = join(scratch, "gpt2ish");
    cpSync(STORIES260K, model, { recursive: true, filter: (src) => !src.endsWith(".safetensors") && !src.endsWith("tokenizer.json") });
    writeFileSync(join(model, "config.json"), JSON.stringify({ architectures: ["GPT2LMHeadModel"] }));
    const error = await resolveTrainSpec(ws, parseTrainSpec({ model, dataset: "nope", earlyStopping: { patience: 2 } }), "train.yaml").catch((e: unknown) => e);
    expect(problemsOf(error)).toEqual([
      { path: "model", value: model, message: `${model} has no *.safetensors weights`, fix: expect.stringContaining("safetensors"), source: "train.yaml" },
      { path: "model", value: model, message: `${model} has no tokenizer.json`, fix: expect.stringContaining("tokenizer"), source: "train.yaml" },
      {
        path: "model",
        value: model,
        message: 'architecture "GPT2LMHeadModel" (config.json) is not supported',
        fix: "use a model of one of: LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM, Qwen3ForCausalLM, Gemma2ForCausalLM, Gemma3ForCausalLM, Phi3ForCausalLM, Qwen3MoeForCausalLM",
        source: "train.yaml",
      },
      { path: "dataset", value: "nope", message: expect.stringContaining("nope"), fix: expect.any(String), source: "train.yaml" },
    ]);
  });

  it("reports schema mistakes and missing resources together", async () => {
    const error = await resolveTrainSpecInput(ws, { model: join(scratch, "missing"), dataset: "nope@3", batchSize: 0 }, "train.yaml").catch((e: unknown) => e);
    expect(problemsOf(error)).toEqual([
      { path: "batchSize", value: 0, message: "Too small: expected number to be >=1", fix: "use a value ≥ 1", source: "train.yaml" },
      {
        path: "model",
        value: join(scratch, "missing"),
        message: `model folder ${join(scratch, "missing")} does not exist`,
        fix: "point model at a Hugging Face model folder (config.json, *.safetensors, tokenizer.json)",
        source: "train.yaml",
      },
      { path: "dataset", value: "nope@3", message: expect.stringContaining("nope"), fix: expect.any(String), source: "train.yaml" },
    ]);
  });

  it("needs val records when evaluation is on", async () => {
    const { commitVersion } = await import("../data/index.js");
    await commitVersion(ws, {
      dataset: "trainonly",
      transform: "import",
      params: {},
      records: (async function* () {
        yield { text: "One day Tom ran.", metadata: { split: "train" } };
      })(),
    });
    const error = await resolveTrainSpec(ws, parseTrainSpec({ model: STORIES260K, dataset: "trainonly", seqLen: 4096 }), "t.yaml").catch((e: unknown) => e);
    expect(problemsOf(error)).toEqual([
      { path: "seqLen", value: 4096, message: "is longer than the model's max_position_embeddings (512)", fix: "use seqLen ≤ 512", source: "t.yaml" },
      {
        path: "eval.enabled",
        value: true,
        message: "trainonly@1 has no val records, so validation loss cannot be measured",
        fix: "split the dataset with a val share (`tunekit data split NAME`), or set eval.enabled: false",
        source: "t.yaml",
      },
    ]);
  });

  it("checks distributed: fsdp against processes and method before any compute", async () => {
    const error = await resolveTrainSpec(ws, parseTrainSpec({ model: STORIES260K, dataset: "stories@1", distributed: "fsdp" }), "t.yaml").catch((e: unknown) => e);
    expect(problemsOf(error)).toEqual([
      { path: "distributed", value: "fsdp", message: "distributed: fsdp shards across processes, but processes is 1", fix: "set processes to the number of GPUs (e.g. processes: 2), or remove distributed: fsdp", source: "t.yaml" },
      {
        path: "distributed",
        value: "fsdp",
        message: "distributed: fsdp is for full fine-tuning; this run's method is lora",
        fix: "use distributed: ddp for LoRA (its trainable weights are small and the frozen model is shared per GPU), or method: full",
        source: "t.yaml",
      },
    ]);
    const ok = await resolveTrainSpec(ws, parseTrainSpec({ model: STORIES260K, dataset: "stories@1", distributed: "fsdp", processes: 2, method: "full", gradientCheckpointing: 2 }));
    expect(ok.spec).toMatchObject({ distributed: "fsdp", processes: 2, gradientCheckpointing: 2 });
  });
});
