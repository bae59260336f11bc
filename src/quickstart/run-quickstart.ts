import { existsSync } from "node:fs";
import { isAbsolute, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { NotFoundError } from "../errors/index.js";
import { writeEvalReport, type EvalSummary } from "../eval/index.js";
import { initWorkspace, openWorkspace, type Workspace } from "../registry/index.js";
import { writeModelCard } from "../report/index.js";
import { resolveHubModel } from "../hub/index.js";
import { comparisonRows, type ComparisonRow } from "./comparison.js";
import { evaluate } from "./evaluate.js";
import { fineTune, quickstartTrainSpec } from "./fine-tune.js";
import { QuickstartOptionsSchema, quickstartSizes, type QuickstartOptionsInput } from "./options.js";
import { prepareData, ref } from "./prepare-data.js";
import type { QuickstartReporter } from "./reporter.js";
import { showData } from "./show-data.js";

/**
 * `tunekit quickstart` as a library function: the whole lifecycle on the bundled sample in one process —
 * workspace, data (import → validate → clean → dedupe → PII → split), stats / loss mask / cost, baseline
 * evaluation (base zero-shot and prompt-engineered), LoRA fine-tuning, the three-way comparison on held-out
 * data, the HTML + Markdown report and the model card. Every step is recorded in the workspace registry; a
 * `quickstart` run ties them together.
 */
export const DEMO_MODEL_DIR = fileURLToPath(new URL("../../models/demo-base", import.meta.url));
export const SAMPLE_CSV = fileURLToPath(new URL("../../samples/support/requests.csv", import.meta.url));

export interface QuickstartResult {
  workspace: string;
  runId: string;
  datasetVersions: Record<string, string>;
  baselineEvalRunId: string;
  trainRunId: string;
  modelName: string;
  comparisonEvalRunId: string;
  report: { html: string; markdown: string };
  modelCard: { html: string; markdown: string };
  comparison: ComparisonRow[];
  summary: EvalSummary;
  seconds: number;
}

export async function runQuickstart(input: QuickstartOptionsInput, report: QuickstartReporter, display: { color: boolean } = { color: false }): Promise<QuickstartResult> {
  const options = QuickstartOptionsSchema.parse(input);
  const sizes = quickstartSizes(options);
  const started = performance.now();
  // --model org/name[@rev] is a Hub model, resolved to its HF cache snapshot (downloaded if needed).
  const modelDir = (options.model && (await resolveHubModel(options.model))?.dir) || resolve(options.model ?? DEMO_MODEL_DIR);
  const dataFile = resolve(options.data ?? SAMPLE_CSV);
  for (const [what, path, file] of [["model folder", modelDir, "config.json"], ["sample data", dataFile, ""]] as const) {
    if (!existsSync(file ? join(path, file) : path)) {
      throw new NotFoundError("QUICKSTART_INPUT_MISSING", `the ${what} ${path} does not exist${file ? ` (or has no ${file})` : ""}`, {
        fix: what === "model folder" ? "pass --model with a Hugging Face model folder (config.json, *.safetensors, tokenizer.json)" : "pass --data with a CSV of request,reply,intent columns",
      });
    }
  }
  const device = options.gpu ? "cuda" : "cpu";
  const dir = isAbsolute(options.dir) ? options.dir : resolve(options.dir);

  report.step("workspace");
  const init = await initWorkspace(dir, { name: "tunekit-quickstart" });
  report.line(`${init.created ? "created" : "reusing"} workspace ${dir} (registry ${join(dir, ".tunekit", "registry.db")})`);
  const ws: Workspace = await openWorkspace({ dir, overrides: { worker: { device } } });
  const run = await ws.registry.createRun({ kind: "quickstart", name: "quickstart", config: { ...options, modelDir, dataFile, sizes, device } });
  await ws.registry.transitionRun(run.id, "running");
  try {
    const dataset = "support";
    const data = await prepareData(ws, { dataset, file: dataFile, seed: options.seed, testCount: sizes.testCount, valCount: sizes.valCount }, report);
    const split = ref(data.versions.split);
    await showData(ws, data.versions.split, modelDir, report, display.color);

    const target = { dataset: split, modelDir, device, sizes, seed: options.seed };
    report.step(`evaluate the base model on ${data.splitCounts.test} held-out requests`);
    const baseline = await evaluate(ws, "quickstart-baseline", target, report);

    report.step("fine-tune with LoRA");
    const spec = quickstartTrainSpec({ modelDir, dataset: split, sizes, seed: options.seed, device, name: `support-lora-${run.id.slice(-6)}` });
    const trained = await fineTune(ws, spec, report);

    report.step("evaluate the fine-tuned model against both baselines");
    const comparison = await evaluate(ws, "quickstart-comparison", { ...target, adapterDir: trained.model.path ?? undefined }, report);
    for (const v of comparison.summary.verdicts) report.line(`  ${v}`);

    report.step("report and model card");
    const written = await writeEvalReport(ws, comparison.runId, { outDir: join(dir, "reports", "quickstart") });
    const card = await writeModelCard(ws, trained.run.id, { outDir: join(dir, "reports", "quickstart") });
    report.line(`report      ${written.html}`);
    report.line(`summary     ${written.markdown}`);
    report.line(`model card  ${card.markdown} (and ${card.html})`);

    const result: QuickstartResult = {
      workspace: dir,
      runId: run.id,
      datasetVersions: Object.fromEntries(Object.entries(data.versions).map(([k, v]) => [k, ref(v)])),
      baselineEvalRunId: baseline.runId,
      trainRunId: trained.run.id,
      modelName: trained.model.name,
      comparisonEvalRunId: comparison.runId,
      report: { html: written.html, markdown: written.markdown },
      modelCard: { html: card.html, markdown: card.markdown },
      comparison: comparisonRows(comparison.summary),
      summary: comparison.summary,
      seconds: (performance.now() - started) / 1000,
    };
    const { summary: _summary, ...recorded } = result;
    await ws.registry.transitionRun(run.id, "succeeded", { result: recorded as unknown as Record<string, unknown> });
    return result;
  } catch (error) {
    const e = error as { code?: string; message?: string };
    await ws.registry.transitionRun(run.id, "failed", { error: { code: e.code ?? "QUICKSTART_FAILED", message: String(e.message ?? error) } }).catch(() => undefined);
    throw error;
  } finally {
    await ws.close();
  }
}
