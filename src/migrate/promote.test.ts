import { rmSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { commitVersion, type ChatRecord } from "../data/index.js";
import { parseEvalSuite, runEvalSuite } from "../eval/index.js";
import { startChatStub, type ChatStubServer } from "../eval/testing/chat-stub-server.js";
import { ExperimentStore, openGatewayStores } from "../gateway/index.js";
import { openWorkspace, type Workspace } from "../registry/index.js";
import { setupExperiment } from "./experiment.js";
import { gateVerdict, promoteCandidate } from "./promote.js";
import { createMigrateWorkspace, qaPairs } from "./testing/migrate-fixtures.js";

// The gate on a real eval run: three OpenAI-compatible candidates on chat stubs — "trained" answers every
// test question with its reference, "served" (a copy, e.g. a GGUF export) answers the same, "broken" answers
// nonsense — compared pairwise on token_f1 by the eval suite itself.
let dir: string;
let stub: ChatStubServer;
let evalRunId: string;
const pairs = qaPairs().slice(0, 8);
const withWs = async <T>(fn: (ws: Workspace) => Promise<T>): Promise<T> => {
  const ws = await openWorkspace({ dir });
  try {
    return await fn(ws);
  } finally {
    await ws.close();
  }
};

beforeAll(async () => {
  dir = await createMigrateWorkspace();
  const answers = new Map(pairs.map((p) => [p.question, p.answer]));
  stub = await startChatStub((req) => (req.model === "broken" ? "purple monkey dishwasher" : (answers.get(req.messages.at(-1)!.content) ?? "")));
  setupExperiment(dir, { name: "swap", publicModel: "support", traffic: 0.5, old: { route: "trained", baseURL: stub.url, model: "trained", apiKeyEnv: "NONE" }, replacement: { route: "served", modelDir: "/m", adapterDir: "/a" } });
  evalRunId = await withWs(async (ws) => {
    const records: ChatRecord[] = pairs.map((p) => ({ messages: [{ role: "user", content: p.question }, { role: "assistant", content: p.answer }], metadata: { split: "test" } }));
    await commitVersion(ws, { dataset: "qa", transform: "import", params: {}, records: (async function* () { yield* records; })() });
    const candidate = (name: string) => ({ name, type: "openai", model: name, baseURL: stub.url });
    const suite = parseEvalSuite({ name: "gate", dataset: { version: "qa" }, candidates: [candidate("trained"), candidate("served"), candidate("broken")], metrics: ["token_f1"], statistics: { resamples: 200 } });
    return (await runEvalSuite(ws, suite, { baseDir: dir })).runId;
  });
}, 60_000);
afterAll(async () => {
  await stub?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("model promote gate", () => {
  it("promotes a non-inferior candidate: ends the experiment in its favour and records the decision", async () => {
    await withWs(async (ws) => {
      const outcome = await promoteCandidate(ws, { evalRunId, candidate: "served", reference: "trained", margin: 0.02, experiment: "swap" });
      expect(outcome.verdict).toEqual({
        outcome: "non-inferior", candidate: "served", reference: "trained", metric: "token_f1", margin: 0.02, difference: 0, low: 0, high: 0, pValue: 1, significantlyWorse: false,
        text: "served is non-inferior to trained: token_f1 +0.0 points, 95% CI [0.0, 0.0], margin 2.0 (the CI stays above −2.0)",
      });
      expect([outcome.experiment?.status, outcome.experiment?.winner]).toEqual(["promoted", "served"]);
      const events = await ws.registry.listRunEvents(evalRunId, { name: "promote" });
      expect(events.map((e) => [e.data?.candidate, e.data?.outcome, e.data?.experiment, e.data?.promoted])).toEqual([["served", "non-inferior", "swap", true]]);
    });
  });

  it("refuses a significantly worse candidate and leaves the experiment as it was (PROMOTE_REFUSED)", async () => {
    await withWs(async (ws) => {
      const stores = await openGatewayStores(ws.config.gateway, ws.stateDir);
      const before = new ExperimentStore(stores.db, ws.config.gateway.experiments).list();
      await stores.close();
      await expect(promoteCandidate(ws, { evalRunId, candidate: "broken", reference: "trained", margin: 0.02, experiment: "swap" })).rejects.toMatchObject({
        code: "PROMOTE_REFUSED",
        message: expect.stringMatching(/^not promoting broken: broken is worse than trained: token_f1 -100\.0 points/),
      });
      const after = await openGatewayStores(ws.config.gateway, ws.stateDir);
      expect(new ExperimentStore(after.db, ws.config.gateway.experiments).list()).toEqual(before);
      await after.close();
    });
  });

  it("refuses a run that is not an evaluation (PROMOTE_NOT_AN_EVAL)", async () => {
    await withWs(async (ws) => {
      const run = await ws.registry.createRun({ kind: "data", config: {} });
      await expect(gateVerdict(ws, { evalRunId: run.id, candidate: "served", reference: "trained", margin: 0.02 })).rejects.toMatchObject({ code: "PROMOTE_NOT_AN_EVAL" });
    });
  });

  it("refuses an unfinished evaluation (PROMOTE_EVAL_NOT_FINISHED)", async () => {
    await withWs(async (ws) => {
      const run = await ws.registry.createRun({ kind: "eval", config: {} });
      await expect(gateVerdict(ws, { evalRunId: run.id, candidate: "served", reference: "trained", margin: 0.02 })).rejects.toMatchObject({ code: "PROMOTE_EVAL_NOT_FINISHED" });
    });
  });

  it("names the candidates of the run when one is unknown (PROMOTE_UNKNOWN_CANDIDATE)", async () => {
    await withWs(async (ws) => {
      await expect(gateVerdict(ws, { evalRunId, candidate: "gguf", reference: "trained", margin: 0.02 })).rejects.toMatchObject({ code: "PROMOTE_UNKNOWN_CANDIDATE", fix: "use one of: trained, served, broken" });
    });
  });

  it("says which metrics were compared when the asked one was not (PROMOTE_NO_COMPARISON)", async () => {
    await withWs(async (ws) => {
      await expect(gateVerdict(ws, { evalRunId, candidate: "served", reference: "trained", margin: 0.02, metric: "chrf" })).rejects.toMatchObject({ code: "PROMOTE_NO_COMPARISON", fix: "pass --metric with one of: token_f1" });
    });
  });
});
