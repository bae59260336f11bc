import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { commitVersion, type ChatRecord } from "../../data/index.js";
import { createTempWorkspace, fromArray } from "../../data/testing/temp-workspace.js";
import type { Workspace } from "../../registry/index.js";
import type { CandidateBackend, CompletionRequest } from "../candidates/candidate.js";
import { loadEvalData } from "./load-examples.js";
import { runEvalSuite } from "./run-suite.js";
import { parseEvalSuite } from "./suite-config.js";

/** Held-out test examples from a separately imported dataset, few-shot examples from another one. */
const chat = (input: string, label: string, split?: string): ChatRecord => ({
  messages: [
    { role: "user", content: input },
    { role: "assistant", content: label },
  ],
  metadata: split ? { id: input, split } : { id: input },
});

let ws: Workspace;
beforeAll(async () => {
  ws = await createTempWorkspace();
  const commit = (dataset: string, records: ChatRecord[]) => commitVersion(ws, { dataset, transform: "import", params: {}, records: fromArray(records) });
  await commit("intents", [chat("card lost", "lost_card", "train"), chat("where is my card", "card_arrival", "train"), chat("pin blocked", "pin_blocked", "test")]);
  await commit("intents-heldout", [chat("my card never came", "card_arrival"), chat("I forgot my pin", "pin_blocked")]);
  await commit("shots", [chat("stolen card", "lost_card", "train"), chat("card still not here", "card_arrival", "train"), chat("ignored", "x", "val")]);
  await commit("shots-leaky", [chat("stolen card", "lost_card", "train"), chat("I  forgot my PIN", "pin_blocked", "train")]);
});
afterAll(async () => {
  await ws.close();
});

const ids = (es: { id: string }[]) => es.map((e) => e.id);

describe("loadEvalData", () => {
  it("defaults to the trained dataset's test and train splits", async () => {
    const d = await loadEvalData(ws, { version: "intents", split: "test", trainSplit: "train" }, { checkLeakage: true });
    expect([ids(d.test), ids(d.train), d.testSource.ref, d.fewShotSource]).toEqual([["pin blocked"], ["card lost", "where is my card"], "intents@1", { id: d.version.id, ref: "intents@1", sha256: d.version.sha256, split: "train", examples: 2 }]);
  });

  it("takes test examples from a held-out dataset and few-shot examples from another dataset's split", async () => {
    const d = await loadEvalData(ws, { version: "intents", split: "test", trainSplit: "train", heldOut: { version: "intents-heldout", split: "all" }, fewShot: { version: "shots@1", split: "train" } }, { checkLeakage: true });
    expect(ids(d.test)).toEqual(["my card never came", "I forgot my pin"]);
    expect(ids(d.train)).toEqual(["stolen card", "card still not here"]);
    expect(d.version.datasetName).toBe("intents");
    const heldOut = await ws.registry.resolveDatasetVersion("intents-heldout");
    expect(d.testSource).toEqual({ id: heldOut.id, ref: "intents-heldout@1", sha256: heldOut.sha256, split: "all", examples: 2 });
    expect(d.fewShotSource).toMatchObject({ ref: "shots@1", split: "train", examples: 2 });
  });

  it("refuses a held-out prompt that is also a few-shot example (EVAL_FEW_SHOT_LEAKAGE)", async () => {
    await expect(loadEvalData(ws, { version: "intents", split: "test", trainSplit: "train", heldOut: { version: "intents-heldout", split: "all" }, fewShot: { version: "shots-leaky", split: "train" } }, { checkLeakage: true })).rejects.toMatchObject({
      code: "EVAL_FEW_SHOT_LEAKAGE",
      message: '1 of 2 held-out examples (intents-heldout@1, split all) have the same prompt as a few-shot example (shots-leaky@1, split train), e.g. example I forgot my pin: "I forgot my pin"',
      details: { heldOut: "intents-heldout@1", fewShot: "shots-leaky@1", leakedExamples: 1 },
    });
    // Without few-shot candidates the overlap cannot leak into a prompt: no check.
    const d = await loadEvalData(ws, { version: "intents", split: "test", trainSplit: "train", heldOut: { version: "intents-heldout", split: "all" }, fewShot: { version: "shots-leaky", split: "train" } }, { checkLeakage: false });
    expect(d.test).toHaveLength(2);
  });

  it("reports an empty held-out split (EVAL_EMPTY_SPLIT)", async () => {
    await expect(loadEvalData(ws, { version: "intents", split: "test", trainSplit: "train", heldOut: { version: "intents-heldout", split: "test" } }, { checkLeakage: true })).rejects.toMatchObject({
      code: "EVAL_EMPTY_SPLIT",
      message: 'held-out dataset version intents-heldout@1 has no records in split "test" (splits: {"(none)":2})',
    });
  });

  it("records both sources with the eval run", async () => {
    const seen: CompletionRequest[] = [];
    const echo: CandidateBackend = {
      describe: () => ({ type: "test" }),
      complete: (request) => {
        seen.push(request);
        return Promise.resolve({ text: "card_arrival", promptTokens: 1, completionTokens: 1, latencyMs: 1, finishReason: "stop", cached: false, attempts: 1 });
      },
    };
    const suite = parseEvalSuite({
      name: "held-out",
      dataset: { version: "intents", heldOut: { version: "intents-heldout" }, fewShot: { version: "shots" } },
      candidates: [{ name: "few", type: "openai", model: "m", prompt: { fewShot: { k: 2 } } }],
      metrics: ["accuracy"],
      statistics: { resamples: 100 },
    });
    const outcome = await runEvalSuite(ws, suite, { baseDir: ws.root, backends: { few: echo } });
    const run = await ws.registry.getRun(outcome.runId);
    const cfg = run.config as { dataset: { ref: string; split: string; examples: number }; fewShot: { ref: string; split: string; examples: number } };
    expect([cfg.dataset.ref, cfg.dataset.split, cfg.dataset.examples, cfg.fewShot.ref, cfg.fewShot.split, cfg.fewShot.examples]).toEqual(["intents-heldout@1", "all", 2, "shots@1", "train", 2]);
    expect(run.datasetVersionId).toBe((await ws.registry.resolveDatasetVersion("intents")).id);
    // The few-shot turns in every prompt come from "shots".
    const shots = seen[0].messages.filter((m) => m.role === "user").map((m) => m.content).slice(0, 2).sort();
    expect(shots).toEqual(["card still not here", "stolen card"]);
    expect(outcome.summary.candidates[0].metrics.accuracy.value).toBe(0.5);
  });
});
