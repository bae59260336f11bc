import { createHash } from "node:crypto";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { stringify } from "yaml";
import { prepareImport, splitDataset, commitVersion, readVersion } from "../../data/index.js";
import { parseEvalSuite, runEvalSuite } from "../../eval/index.js";
import { startChatStub } from "../../eval/testing/chat-stub-server.js";
import { openGatewayStores, ExperimentStore, type RequestRecord } from "../../gateway/index.js";
import { initWorkspace, openWorkspace, type Run, type RunEventInput, type Workspace } from "../../registry/index.js";

/**
 * A workspace with real content for the dashboard's tests and screenshots: the banking77 sample imported and
 * split through src/data, a finished training run and a live one with metric events, an eval run of two
 * candidates on a local chat-completions server (the real eval suite), and a gateway request log with an
 * A/B experiment.
 */
const REPO = fileURLToPath(new URL("../../../", import.meta.url));
export const BANKING77_CSV = join(REPO, "../shared/fixtures/data/banking77/train.csv");
export const STORIES_MODEL = join(REPO, "../shared/fixtures/models/stories260k");

export interface SeededWorkspace {
  ws: Workspace;
  dir: string;
  finishedRun: Run;
  liveRun: Run;
  evalRunId: string;
  /** Appends `n` training steps (loss, lr, throughput) to the live run, continuing from its last step. */
  appendSteps(n: number): Promise<void>;
}

const bucket = (text: string) => createHash("sha256").update(text).digest()[0] / 256;

function stepEvents(step: number, seed: number): RunEventInput[] {
  const loss = 2.6 * Math.exp(-step / (60 + seed * 10)) + 0.45 + 0.04 * Math.sin(step * 0.7 + seed);
  const lr = step < 10 ? (2e-4 * step) / 10 : 2e-4 * 0.5 * (1 + Math.cos((Math.PI * (step - 10)) / 190));
  const tps = 5200 + 300 * Math.sin(step / 7 + seed) - seed * 400;
  const events: RunEventInput[] = [
    { type: "metric", step, name: "train/loss", value: loss },
    { type: "metric", step, name: "train/lr", value: lr },
    { type: "metric", step, name: "train/tokens_per_s", value: tps },
    { type: "progress", step, data: { total_steps: 200, loss, lr, tokens_per_s: tps } },
  ];
  if (step % 20 === 0) {
    events.push({ type: "metric", step, name: "val/loss", value: loss + 0.08 + seed * 0.02 });
    events.push({ type: "checkpoint", step, data: { path: `checkpoints/step-${step}`, best: step % 40 === 0 } });
  }
  return events;
}

export async function seedWorkspace(options: { rows?: number } = {}): Promise<SeededWorkspace> {
  const dir = await mkdtemp(join(tmpdir(), "tk-ui-"));
  await initWorkspace(dir, { name: "support-bot" });
  await writeFile(
    join(dir, "tunekit.yaml"),
    stringify({
      version: 1,
      project: { name: "support-bot", description: "banking77 intent classifier" },
      registry: { backend: "sqlite" },
      log: { level: "warn" },
      gateway: {
        routes: [{ name: "base-prompted", baseUrl: "http://127.0.0.1:9/v1" }, { name: "tuned-v1", baseUrl: "http://127.0.0.1:9/v1" }],
        experiments: [{ name: "tuned-vs-base", model: "support", variants: [{ route: "base-prompted", weight: 1 }, { route: "tuned-v1", weight: 1 }] }],
      },
    }),
  );
  const ws = await openWorkspace({ dir, env: {} });

  // Data: import the CSV (a few rows carry PII so the PII page has findings), then a stratified split.
  const prepared = await prepareImport([BANKING77_CSV], { format: "csv", map: "user=text,assistant=category" });
  const limit = options.rows ?? 1200;
  async function* firstRows() {
    let i = 0;
    for await (const r of prepared.records()) {
      if (i >= limit) break;
      if ("messages" in r) r.metadata = { ...r.metadata, category: r.messages[1]?.content ?? "" };
      if (i % 97 === 3 && "messages" in r) r.messages[0].content += ` — reach me at jane.doe${i}@example.com or +1 415 555 01${String(i % 100).padStart(2, "0")}`;
      i++;
      yield r;
    }
  }
  const imported = await commitVersion(ws, { dataset: "banking77", description: "Banking intents (PolyAI banking77 sample)", transform: "import", params: { file: BANKING77_CSV, map: "user=text,assistant=category", rows: limit }, records: firstRows(), report: () => ({ ...prepared.report }) });
  const split = await splitDataset(() => readVersion(ws, imported), { seed: 7, ratios: { train: 0.8, val: 0.1, test: 0.1 }, stratifyBy: "category" });
  const splitVersion = await commitVersion(ws, { dataset: "banking77", parent: imported, transform: "split", params: { seed: 7, stratifyBy: "category" }, records: split.records(), report: () => ({ ...split.report }) });

  // Runs: one finished, one live (events appended while a test watches).
  const config = (name: string, r: number) => ({ name, model: STORIES_MODEL, dataset: `banking77@${splitVersion.number}`, method: "lora", lora: { r, alpha: r * 2 }, lr: 2e-4, epochs: 2, batchSize: 8, seqLen: 256 });
  let finishedRun = await ws.registry.createRun({ kind: "train", name: "intents-lora-r8", config: config("intents-lora-r8", 8), backend: "local", datasetVersionId: splitVersion.id });
  await ws.registry.transitionRun(finishedRun.id, "running");
  const events: RunEventInput[] = [];
  for (let s = 1; s <= 200; s++) events.push(...stepEvents(s, 1));
  events.push({ type: "log", name: "info", data: { message: "compiled 960 train / 120 val sequences" } }, { type: "log", name: "info", data: { message: "training finished: 200/200 steps" } });
  await ws.registry.appendRunEvents(finishedRun.id, events);
  finishedRun = await ws.registry.transitionRun(finishedRun.id, "succeeded", { result: { steps: 200, total_steps: 200, final_train_loss: 0.49, best_val_loss: 0.58, best_step: 200 }, costUsd: 0.42 });
  await ws.registry.createModel({ name: "intents-lora-r8", kind: "fine_tuned", provider: "local", path: join(dir, "out", "intents-lora-r8"), runId: finishedRun.id, datasetVersionId: splitVersion.id });

  let liveRun = await ws.registry.createRun({ kind: "train", name: "intents-lora-r16", config: config("intents-lora-r16", 16), backend: "local", datasetVersionId: splitVersion.id });
  liveRun = await ws.registry.transitionRun(liveRun.id, "running");
  let liveStep = 0;
  const appendSteps = async (n: number) => {
    const batch: RunEventInput[] = [];
    for (let k = 0; k < n; k++) batch.push(...stepEvents(++liveStep, 0));
    await ws.registry.appendRunEvents(liveRun.id, batch);
  };
  await appendSteps(40);

  // Eval: two candidates on a local chat-completions server answering from the split's labels.
  const truth = new Map<string, string>();
  for await (const r of readVersion(ws, splitVersion)) if ("messages" in r) truth.set(r.messages[0].content ?? "", r.messages[1].content ?? "");
  const stub = await startChatStub((req) => {
    const text = String(req.messages.at(-1)?.content ?? "").replace(/^Classify: /, "");
    const label = truth.get(text) ?? "unknown";
    const right = bucket(text) < (req.model === "tuned" ? 0.88 : 0.62);
    return right ? label : label === "card_arrival" ? "card_linking" : "card_arrival";
  });
  let evalRunId: string;
  try {
    const suite = parseEvalSuite({
      name: "banking77-intents",
      dataset: { version: `banking77@${splitVersion.number}` },
      candidates: [
        { name: "base-prompted", type: "openai", model: "base", baseURL: stub.url, prompt: { system: "Answer with the intent label only.", template: "Classify: {{input}}", fewShot: { k: 3, seed: 1 } }, pricing: { inputPerMTok: 0.15, outputPerMTok: 0.6 } },
        { name: "tuned-v1", type: "openai", model: "tuned", fineTuned: true, baseURL: stub.url, prompt: { template: "Classify: {{input}}" }, pricing: { inputPerMTok: 0.3, outputPerMTok: 1.2 } },
      ],
      metrics: ["accuracy", "macro_f1", "exact_match"],
      volume: { requestsPerMonth: 100_000 },
      statistics: { resamples: 300 },
    });
    evalRunId = (await runEvalSuite(ws, suite, { baseDir: ws.root })).runId;
  } finally {
    await stub.close();
  }

  // Gateway: an experiment running for two days with hourly traffic and feedback.
  const stores = await openGatewayStores(ws.config.gateway, ws.stateDir);
  try {
    new ExperimentStore(stores.db, ws.config.gateway.experiments).apply("tuned-vs-base", "start", { actor: "seed", now: Date.now() - 48 * 3_600_000 });
    const now = Date.now();
    const requests: RequestRecord[] = [];
    for (let i = 0; i < 1200; i++) {
      const variant = i % 2 === 0 ? "base-prompted" : "tuned-v1";
      const r = bucket(`req-${i}`);
      requests.push({
        id: `req_${i}`, ts: now - 47 * 3_600_000 + i * 140_000, model: "support", variant, experiment: "tuned-vs-base", backend: "openai",
        status: r < (variant === "tuned-v1" ? 0.01 : 0.03) ? 502 : 200, errorCode: null, stream: false,
        latencyMs: (variant === "tuned-v1" ? 180 : 420) + r * 300, ttftMs: null, attempts: 1,
        promptTokens: variant === "tuned-v1" ? 60 : 900, completionTokens: 8, costUsd: variant === "tuned-v1" ? 0.0000276 : 0.0001398,
        keyId: null, userKey: `u${i % 300}`, input: null, output: null, finishReason: "stop",
      });
    }
    await stores.store.insertRequests(requests);
    for (let i = 0; i < requests.length; i += 3) {
      const ok = bucket(`fb-${i}`) < (requests[i].variant === "tuned-v1" ? 0.86 : 0.7);
      await stores.store.insertFeedback({ requestId: requests[i].id, score: ok ? 1 : 0 }, requests[i].ts + 5000);
    }
  } finally {
    await stores.close();
  }
  return { ws, dir, finishedRun, liveRun, evalRunId, appendSteps };
}
