import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { commitVersion, type DatasetRecord, type PreferenceRecord } from "../data/index.js";
import { ConfigError } from "../errors/index.js";
import { openWorkspace, type Workspace } from "../registry/index.js";
import { parseTrainSpec } from "./spec.js";
import { resolveTrainSpec } from "./spec-check.js";
import { STORIES260K, createStoriesWorkspace, runCli, writeSpec } from "./testing/train-fixtures.js";

const NAMES = ["Tom", "Lily", "Ben", "Mia", "Sam", "Anna", "Max", "Sue", "Tim", "Lucy", "Jack", "Amy", "Bob", "Zoe", "Ann"];

/** Preference pairs in one pattern: the chosen answer is kind, the rejected one is not. */
function preferenceRecords(): PreferenceRecord[] {
  return NAMES.map((name, i) => ({
    input: { messages: [{ role: "user", content: `What did ${name} do?` }] },
    preferred_output: [{ role: "assistant", content: `${name} was kind.` }],
    non_preferred_output: [{ role: "assistant", content: `${name} was bad.` }],
    metadata: { id: `p${i}`, split: i % 5 === 4 ? "val" : "train" },
  }));
}

async function commit(ws: Workspace, dataset: string, records: DatasetRecord[]) {
  await commitVersion(ws, { dataset, transform: "import", params: {}, records: (async function* () { yield* records; })() });
}

function problemsOf(error: unknown) {
  expect(error).toBeInstanceOf(ConfigError);
  return ((error as ConfigError).details as { problems: unknown[] }).problems;
}

const PREF_SPEC = {
  model: STORIES260K,
  dataset: "prefs",
  objective: "dpo",
  dpo: { beta: 0.5 },
  lora: { r: 4, alpha: 8, targetModules: ["q_proj", "v_proj"] },
  optimizer: { lr: 0.02 },
  schedule: { type: "constant" },
  batchSize: 4,
  seqLen: 128,
  maxSteps: 6,
  eval: { everySteps: 3 },
  checkpoint: { everySteps: 3, keepLast: 2 },
  device: "cpu",
};

describe("preference training: spec checks and tunekit train with objective dpo", () => {
  let dir: string;
  let ws: Workspace;
  let scratch: string;
  beforeAll(async () => {
    dir = await createStoriesWorkspace();
    ws = await openWorkspace({ dir });
    scratch = mkdtempSync(join(tmpdir(), "tk-pref-"));
    await commit(ws, "prefs", preferenceRecords());
    await commit(ws, "mixed", [...preferenceRecords(), { text: "Tom ran.", metadata: { split: "train" } }]);
  });
  afterAll(async () => {
    await ws.close();
    rmSync(dir, { recursive: true, force: true });
    rmSync(scratch, { recursive: true, force: true });
  });

  const check = (spec: Record<string, unknown>) => resolveTrainSpec(ws, parseTrainSpec(spec), "t.yaml").catch((e: unknown) => e);

  it("dpo on a dataset without preference records is refused", async () => {
    expect(problemsOf(await check({ ...PREF_SPEC, dataset: "stories" }))).toEqual([
      { path: "objective", value: "dpo", message: "objective dpo trains on preference records, but the train split of stories@1 has none", fix: "add preference records ({input, preferred_output, non_preferred_output}) to the dataset, or use objective: sft", source: "t.yaml" },
    ]);
  });

  it("sft on preference records is refused with the fix", async () => {
    expect(problemsOf(await check({ ...PREF_SPEC, objective: "sft" }))).toEqual([
      { path: "objective", value: "sft", message: "prefs@1 has 15 preference records (preferred_output / non_preferred_output), which supervised fine-tuning cannot train", fix: "set objective: dpo (or orpo) to train on the preference pairs, or train a version without them", source: "t.yaml" },
    ]);
  });

  it("orpo on a version mixing chat/text and preference records is refused", async () => {
    expect(problemsOf(await check({ ...PREF_SPEC, objective: "orpo", dataset: "mixed" }))).toEqual([
      { path: "dataset", value: "mixed", message: "mixed@1 mixes 1 chat/text records with 15 preference records; objective orpo trains on preference records only", fix: "make a version holding only the preference records, and train the chat/text records in an sft run", source: "t.yaml" },
    ]);
  });

  it("preference objectives run in one process", async () => {
    expect(problemsOf(await check({ ...PREF_SPEC, processes: 2 }))).toEqual([{ path: "processes", value: 2, message: "objective dpo runs in one process for now", fix: "set processes: 1", source: "t.yaml" }]);
  });

  it("initAdapter needs method lora", async () => {
    expect(problemsOf(await check({ ...PREF_SPEC, method: "full", initAdapter: scratch }))).toEqual([
      { path: "initAdapter", value: scratch, message: "initAdapter continues a LoRA adapter, but method is full", fix: "use method: lora, or merge the adapter into a model folder (`tunekit model merge`) and fully fine-tune that as model", source: "t.yaml" },
    ]);
  });

  it("initAdapter must be a PEFT adapter folder", async () => {
    expect(problemsOf(await check({ ...PREF_SPEC, initAdapter: scratch }))).toEqual([
      { path: "initAdapter", value: scratch, message: `${scratch} is not a PEFT adapter folder (adapter_config.json and adapter_model.safetensors)`, fix: "point initAdapter at a run's output/adapter folder (`tunekit model list` shows each model's path)", source: "t.yaml" },
    ]);
  });

  it("initAdapter's LoRA settings must equal the spec's: every difference listed", async () => {
    const adapter = join(scratch, "adapter");
    mkdirSync(adapter);
    writeFileSync(join(adapter, "adapter_config.json"), JSON.stringify({ peft_type: "LORA", r: 8, lora_alpha: 16, target_modules: ["v_proj", "q_proj", "o_proj"] }));
    writeFileSync(join(adapter, "adapter_model.safetensors"), "");
    expect(problemsOf(await check({ ...PREF_SPEC, initAdapter: adapter }))).toEqual([
      {
        path: "initAdapter",
        value: adapter,
        message: 'the adapter\'s LoRA settings differ from this spec\'s: lora.r is 4, the adapter\'s 8; lora.alpha is 8, the adapter\'s 16; lora.targetModules is ["q_proj","v_proj"], the adapter\'s ["o_proj","q_proj","v_proj"]',
        fix: `set lora.r: 8, lora.alpha: 16, lora.targetModules: ["o_proj","q_proj","v_proj"] (from ${join(adapter, "adapter_config.json")})`,
        source: "t.yaml",
      },
    ]);
  });

  it("tunekit train --config with objective dpo trains on the CPU, records reward metrics, and initAdapter continues it", async () => {
    const spec = writeSpec(dir, { ...PREF_SPEC, name: "prefs-dpo" }, "dpo.yaml");
    // The plan counts pairs: 12 train pairs = 24 rows, 4 pairs (8 rows) a step.
    const dry = await runCli(["--workspace", dir, "--json", "train", "--config", spec, "--dry-run", "--set", "maxSteps=null"]);
    expect(dry.code, dry.stderr).toBe(0);
    const { plan } = JSON.parse(dry.stdout);
    expect(plan.data).toMatchObject({ trainSequences: 24, valSequences: 6, packing: false });
    expect(plan.steps).toMatchObject({ batchesPerEpoch: 3, stepsPerEpoch: 3, totalSteps: 3, sequencesPerStep: 8 });
    const r = await runCli(["--workspace", dir, "--json", "train", "--config", spec]);
    expect(r.code, r.stderr).toBe(0);
    const runs = await ws.registry.listRuns({ kind: "train" });
    const run = runs.find((x) => x.name === "prefs-dpo")!;
    expect(run.status).toBe("succeeded");
    const margin = await ws.registry.listRunEvents(run.id, { type: "metric", name: "train/rewards/margin" });
    const accuracy = await ws.registry.listRunEvents(run.id, { type: "metric", name: "val/rewards/accuracy" });
    expect(margin.map((e) => e.step)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(accuracy.map((e) => e.step)).toEqual([3, 6]);
    const values = margin.map((e) => e.value!);
    expect(values[5]).toBeGreaterThan(values[0]);
    const first = (await ws.registry.listModels()).find((m) => m.name === "prefs-dpo")!;
    expect(first.meta).toMatchObject({ objective: "dpo", adapter: true });

    const next = writeSpec(dir, { ...PREF_SPEC, name: "prefs-dpo-2", initAdapter: first.path, maxSteps: 2 }, "dpo2.yaml");
    const r2 = await runCli(["--workspace", dir, "--json", "train", "--config", next]);
    expect(r2.code, r2.stderr).toBe(0);
    const second = (await ws.registry.listModels()).find((m) => m.name === "prefs-dpo-2")!;
    expect(second.meta).toMatchObject({ initAdapter: { dir: first.path, modelId: first.id, runId: first.runId } });
  }, 300_000); // three CLI runs (a plan, two trainings) on a shared 2-core machine
});

describe("objective and initAdapter on a hosted provider", () => {
  it("are refused: they drive the local worker only", () => {
    const error = (() => {
      try {
        parseTrainSpec({ provider: "openai", model: "gpt-4.1-mini-2025-04-14", dataset: "d", objective: "dpo", initAdapter: "a" }, "t.yaml");
      } catch (e) {
        return e;
      }
    })();
    expect(problemsOf(error)).toEqual([
      { path: "objective", value: "dpo", message: "objective dpo is for local training; provider is openai", fix: "use provider: local, or the provider's own setting (hosted.openai.method where it offers dpo) and remove objective", source: "t.yaml" },
      { path: "initAdapter", value: "a", message: "initAdapter continues a local LoRA adapter; provider is openai", fix: "use provider: local, or remove initAdapter", source: "t.yaml" },
    ]);
  });
});
