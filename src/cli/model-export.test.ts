import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LlamaCppModel } from "../eval/index.js";
import { openWorkspace } from "../registry/index.js";
import { LocalModel } from "../runtime/index.js";
import { loadTokenizer } from "../tokenize/index.js";
import { BASE_SPEC, STORIES260K, createStoriesWorkspace, runCli, writeSpec } from "../train/testing/train-fixtures.js";

/** End to end on CPU: train a LoRA on stories260k, export the run as GGUF, run it in llama.cpp. */
describe("tunekit model export --format gguf", () => {
  let dir: string;
  let runId: string;
  beforeAll(async () => {
    dir = await createStoriesWorkspace();
    const spec = writeSpec(dir, { ...BASE_SPEC, name: "tiny-lora", maxSteps: 6, eval: { everySteps: 6 }, checkpoint: { everySteps: 6, keepLast: 1 } });
    const r = await runCli(["--workspace", dir, "train", "--config", spec]);
    expect(r.code, r.stderr).toBe(0);
    const ws = await openWorkspace({ dir });
    try {
      runId = (await ws.registry.getModel("tiny-lora")).runId!;
    } finally {
      await ws.close();
    }
  }, 240_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("merges the run's adapter, writes GGUF + Modelfile, registers the copy with lineage; llama.cpp continues as tunekit does", async () => {
    const r = await runCli(["--workspace", dir, "--json", "model", "export", runId, "--format", "gguf"]);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.ggufPath).toBe(join(dir, "exports", "tiny-lora-f16", "model.gguf"));
    expect(readFileSync(out.modelfilePath, "utf8")).toBe('FROM ./model.gguf\nPARAMETER stop "</s>"\nPARAMETER temperature 0\n');
    expect(existsSync(`${join(dir, "exports", "tiny-lora-f16")}.merge-${process.pid}`)).toBe(false);

    const ws = await openWorkspace({ dir });
    let adapterDir: string;
    try {
      const source = await ws.registry.getModel("tiny-lora");
      adapterDir = source.path!;
      const copy = await ws.registry.getModel("tiny-lora-gguf-f16");
      expect({ ...copy, id: "", createdAt: "", meta: { ...copy.meta, modelfileArtifact: "" } }).toEqual({
        id: "",
        name: "tiny-lora-gguf-f16",
        kind: "fine_tuned",
        provider: "llama.cpp",
        path: out.ggufPath,
        providerModelId: null,
        baseModelId: source.baseModelId,
        runId,
        datasetVersionId: source.datasetVersionId,
        meta: { format: "gguf", quant: "f16", exportedFrom: source.id, sha256: out.sha256, bytes: out.bytes, architecture: "llama", modelfileArtifact: "" },
        createdAt: "",
      });
    } finally {
      await ws.close();
    }

    // The fine-tune's greedy continuation, in tunekit (base + adapter in the worker) and in llama.cpp.
    const prompt = [...(await loadTokenizer(STORIES260K).encode("Tom had a red ball. Tom", { addSpecialTokens: true }))];
    const local = new LocalModel({ modelDir: STORIES260K, device: "cpu", python: "/usr/bin/python3" });
    let tunekit: number[];
    try {
      tunekit = (await local.generate({ kind: "text", text: "", ids: prompt }, { adapterDir, maxNewTokens: 16, temperature: 0 })).ids;
    } finally {
      await local.close();
    }
    const gguf = new LlamaCppModel({ path: out.ggufPath, threads: 1, contextSize: 128 });
    try {
      const llama = await gguf.generate(prompt, { maxTokens: 16 });
      expect(llama.ids).toEqual(tunekit.filter((id) => id !== 2));
    } finally {
      await gguf.close();
    }
  }, 180_000);

  it("refuses an existing --out folder (EXPORT_OUT_EXISTS) and an unknown --format (CLI_BAD_OPTION)", async () => {
    const again = await runCli(["--workspace", dir, "--json", "model", "export", runId, "--format", "gguf"]);
    expect(again.code).toBe(6);
    expect(again.stderr).toContain("EXPORT_OUT_EXISTS");
    const onnx = await runCli(["--workspace", dir, "model", "export", runId, "--format", "onnx"]);
    expect(onnx.code).not.toBe(0);
    expect(onnx.stderr).toContain("CLI_BAD_OPTION");
  }, 60_000);
});
