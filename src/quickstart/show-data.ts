import { PriceCatalog, estimateCandidate, type CandidateEstimate, type EstimateInput } from "../cost/index.js";
import { splitKey, readVersion, type DatasetRecord } from "../data/index.js";
import type { DatasetVersion, Workspace } from "../registry/index.js";
import { loadChatTemplate, toTemplateMessages, loadTokenizer, previewExamples, renderPreview } from "../tokenize/index.js";
import type { QuickstartReporter } from "./reporter.js";

/**
 * What the data looks like before anything is spent: counts per split and intent, token lengths with the base
 * model's tokenizer and chat template, the loss mask of one example (what training learns from), and a cost
 * estimate for OpenAI, Bedrock and local training of this dataset.
 */
export interface DataOverview {
  trainTokens: number;
  meanPromptTokens: number;
  meanReplyTokens: number;
  estimates: CandidateEstimate[];
}

const COST_CANDIDATES = [
  { provider: "openai", model: "gpt-4o-mini-2024-07-18" },
  { provider: "bedrock", model: "amazon.nova-micro-v1:0:128k" },
  { provider: "local", model: "8b", paramsB: 8 },
] as const;

export async function showData(ws: Workspace, version: DatasetVersion, modelDir: string, report: QuickstartReporter, color: boolean): Promise<DataOverview> {
  report.step("stats, loss mask and cost");
  const tokenizer = loadTokenizer(modelDir);
  const template = loadChatTemplate(tokenizer);
  const perSplit = new Map<string, Map<string, number>>();
  const firstTrain: DatasetRecord[] = [];
  let trainTokens = 0;
  let promptTokens = 0;
  let replyTokens = 0;
  let n = 0;
  for await (const record of readVersion(ws, version)) {
    const meta = (record.metadata ?? {}) as Record<string, unknown>;
    const split = splitKey(meta);
    const intent = String(meta.intent ?? "(none)");
    const m = perSplit.get(split) ?? new Map<string, number>();
    m.set(intent, (m.get(intent) ?? 0) + 1);
    perSplit.set(split, m);
    if (!("messages" in record)) continue;
    const rendered = template.render(toTemplateMessages(record.messages), { addGenerationPrompt: false });
    const all = (await tokenizer.encode(rendered, { addSpecialTokens: false })).length;
    const reply = (await tokenizer.encode(record.messages.at(-1)?.content ?? "", { addSpecialTokens: false })).length;
    n += 1;
    promptTokens += all - reply;
    replyTokens += reply;
    if (split === "train") {
      trainTokens += all;
      if (firstTrain.length < 1) firstTrain.push(record);
    }
  }
  const intents = [...new Set([...perSplit.values()].flatMap((m) => [...m.keys()]))].sort();
  for (const [split, m] of [...perSplit.entries()].sort()) {
    report.line(`  ${split.padEnd(6)} ${[...m.values()].reduce((a, b) => a + b, 0)} records: ${intents.map((i) => `${i} ${m.get(i) ?? 0}`).join(", ")}`);
  }
  const meanPrompt = n ? promptTokens / n : 0;
  const meanReply = n ? replyTokens / n : 0;
  report.line(`  tokens (${tokenizer.modelDir.split("/").pop()} tokenizer, ${template.name} template): ${trainTokens.toLocaleString("en-US")} in train; per example ${meanPrompt.toFixed(0)} prompt + ${meanReply.toFixed(0)} reply`);

  const preview = await previewExamples(firstTrain, tokenizer, template, { count: 1 });
  report.line("  loss mask of one training example (only the reply is learned):");
  for (const line of renderPreview(preview, { color, label: template.name }).split("\n")) report.line(`    ${line}`);

  const input: EstimateInput = {
    trainingTokens: trainTokens,
    epochs: 3,
    type: "lora",
    workload: { requestsPerMonth: 100_000, basePromptTokens: Math.round(meanPrompt) + 400, fineTunedPromptTokens: Math.round(meanPrompt), outputTokens: Math.round(meanReply) },
    dataPrep: { hours: ws.config.cost.dataPrepHours, hourlyRate: ws.config.cost.dataPrepHourlyRate },
    months: 12,
  };
  const catalog = PriceCatalog.withOverrides(ws.config.cost.prices);
  const local = { gpuHourlyRate: ws.config.cost.gpuHourlyRate, gpuCount: ws.config.cost.gpuCount, tokensPerSecond: ws.config.cost.localTokensPerSecond };
  const estimates = COST_CANDIDATES.map((c) => estimateCandidate(catalog, { ...c }, input, local));
  const usd = (v: number | null) => (v === null ? "?" : `$${v < 1 ? v.toFixed(3) : v.toFixed(2)}`);
  report.line(`  cost to fine-tune on ${trainTokens.toLocaleString("en-US")} tokens × 3 epochs, and to serve 100k requests/month (prompt ${input.workload.basePromptTokens} → ${input.workload.fineTunedPromptTokens} tokens):`);
  for (const e of estimates) {
    report.line(`    ${`${e.provider}:${e.model}`.padEnd(52)} training ${usd(e.training.costUsd)}${e.local ? ` (${e.local.gpuHours.toFixed(3)} GPU-h)` : ""}, serving ${usd(e.inference.fineTunedMonthlyUsd)}/month vs base+prompt ${usd(e.inference.baseMonthlyUsd)}/month`);
  }
  return { trainTokens, meanPromptTokens: meanPrompt, meanReplyTokens: meanReply, estimates };
}
