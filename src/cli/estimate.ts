import type { Command } from "commander";
import { writeFileSync } from "node:fs";
import { PriceCatalog, estimateCandidate, renderCostSection, type PriceProvider, type Candidate, type CandidateEstimate, type EstimateInput } from "../cost/index.js";
import { readVersion, isTrainedOn, splitOf } from "../data/index.js";
import { UsageError } from "../errors/index.js";
import { countTokens } from "../tokenize/index.js";
import type { CliContext } from "./context.js";

const DEFAULT_CANDIDATES = ["openai:gpt-4o-mini-2024-07-18", "openai:gpt-4.1-mini-2025-04-14", "bedrock:amazon.nova-micro-v1:0:128k", "together:meta-llama/Meta-Llama-3.1-8B-Instruct-Reference", "local:8b"];

interface EstimateFlags {
  dataset?: string; tokens?: string; epochs: string; candidate?: string[]; requests: string; basePrompt: string; ftPrompt: string;
  output: string; prepHours?: string; prepRate?: string; months: string; method: string; type: string; html?: string;
}

export function register(program: Command, ctx: CliContext): void {
  program
    .command("estimate")
    .description("training, inference and ROI estimates per provider/model before anything is spent")
    .option("--dataset <ref>", 'dataset version whose train split is counted ("name", "name@N" or an id)')
    .option("--tokens <n>", "training tokens per epoch (instead of --dataset)")
    .option("--epochs <n>", "epochs", "3")
    .option("--candidate <provider:model>", `repeatable; local:<size>b for self-hosted (default: ${DEFAULT_CANDIDATES.join(", ")})`, (v: string, acc: string[] = []) => [...acc, v])
    .option("--requests <n>", "requests per month", "100000")
    .option("--base-prompt <tokens>", "prompt tokens per request for the base model (long prompt with instructions/examples)", "1500")
    .option("--ft-prompt <tokens>", "prompt tokens per request for the fine-tuned model (short prompt)", "200")
    .option("--output <tokens>", "output tokens per request", "150")
    .option("--prep-hours <h>", "hours of data preparation (default: cost.dataPrepHours)")
    .option("--prep-rate <usd>", "USD per hour of data preparation (default: cost.dataPrepHourlyRate)")
    .option("--months <n>", "ROI horizon in months", "12")
    .option("--method <sft|dpo>", "training method", "sft")
    .option("--type <lora|full>", "Together / local training type", "lora")
    .option("--html <file>", "also write the HTML section for reports to this file")
    .action((opts: EstimateFlags) =>
      ctx.run(async (out) => {
        await ctx.withWorkspace(async (ws) => {
          const cost = ws.config.cost;
          const num = (v: string | undefined, flag: string, min = 0) => {
            const n = Number(v);
            if (v === undefined || !Number.isFinite(n) || n < min) throw new UsageError("CLI_BAD_OPTION", `${flag} "${v}" is not a number ≥ ${min}`, { fix: `pass a number, e.g. ${flag} 1000` });
            return n;
          };
          if (!opts.dataset && opts.tokens === undefined) throw new UsageError("COST_NO_TOKENS", "estimate needs the training size", { fix: "pass --dataset NAME[@N] (its train split is counted) or --tokens N" });
          if (!["sft", "dpo"].includes(opts.method) || !["lora", "full"].includes(opts.type)) throw new UsageError("CLI_BAD_OPTION", `--method ${opts.method} / --type ${opts.type} is not valid`, { fix: "use --method sft|dpo and --type lora|full" });
          const trainingTokens = opts.dataset ? await datasetTokens(ws, opts.dataset) : num(opts.tokens, "--tokens");
          const input: EstimateInput = {
            trainingTokens, epochs: num(opts.epochs, "--epochs", 1), method: opts.method as "sft" | "dpo", type: opts.type as "lora" | "full",
            workload: { requestsPerMonth: num(opts.requests, "--requests"), basePromptTokens: num(opts.basePrompt, "--base-prompt"), fineTunedPromptTokens: num(opts.ftPrompt, "--ft-prompt"), outputTokens: num(opts.output, "--output") },
            dataPrep: { hours: opts.prepHours === undefined ? cost.dataPrepHours : num(opts.prepHours, "--prep-hours"), hourlyRate: opts.prepRate === undefined ? cost.dataPrepHourlyRate : num(opts.prepRate, "--prep-rate") },
            months: num(opts.months, "--months", 1),
          };
          const catalog = PriceCatalog.withOverrides(cost.prices);
          const estimates: CandidateEstimate[] = (opts.candidate?.length ? opts.candidate : DEFAULT_CANDIDATES).map((c) =>
            estimateCandidate(catalog, parseCandidate(c), input, { gpuHourlyRate: cost.gpuHourlyRate, gpuCount: cost.gpuCount, tokensPerSecond: cost.localTokensPerSecond }),
          );
          if (opts.html) writeFileSync(opts.html, renderCostSection(estimates, input));
          out.data({ input, estimates, ...(opts.html ? { html: opts.html } : {}) });
          const usd = (v: number | null) => (v === null ? "?" : `$${v.toFixed(2)}`);
          out.text(`${trainingTokens.toLocaleString("en-US")} training tokens × ${input.epochs} epochs; ${input.workload.requestsPerMonth.toLocaleString("en-US")} requests/month; prompt ${input.workload.basePromptTokens} → ${input.workload.fineTunedPromptTokens} tokens`);
          out.table(estimates, [
            { key: "provider", header: "PROVIDER" },
            { key: "model", header: "MODEL" },
            { key: "training", header: "TRAINING", align: "right", value: (e) => `${usd(e.training.costUsd)}${e.uncertain.length ? " ≈" : ""}` },
            { key: "gpu", header: "GPU-H", align: "right", value: (e) => (e.local ? e.local.gpuHours.toFixed(2) : "") },
            { key: "base", header: "BASE/MO", align: "right", value: (e) => usd(e.inference.baseMonthlyUsd) },
            { key: "ft", header: "FT/MO", align: "right", value: (e) => usd(e.inference.fineTunedMonthlyUsd) },
            { key: "save", header: "SAVES/MO", align: "right", value: (e) => usd(e.inference.savingsMonthlyUsd) },
            { key: "be", header: "BREAK-EVEN REQ/MO", align: "right", value: (e) => (e.breakEvenRequestsPerMonth === null ? "—" : e.breakEvenRequestsPerMonth.toLocaleString("en-US")) },
            { key: "roi", header: `ROI ${input.months}MO`, align: "right", value: (e) => (e.roi === null ? "—" : `${Math.round(e.roi * 100)}%`) },
          ]);
          const notes = [...new Set(estimates.flatMap((e) => [...e.notes.map((n) => `${e.model}: ${n}`), ...(e.uncertain.length ? [`${e.model}: unconfirmed figures (≈): ${e.uncertain.join(", ")}`] : [])]))];
          for (const n of notes) out.note(`note: ${n}`);
          for (const w of new Set(estimates.flatMap((e) => e.warnings.map((x) => `${e.model}: ${x}`)))) out.note(`warning: ${w}`);
          if (opts.html) out.note(`HTML section written to ${opts.html}`);
        });
      }),
    );
}

function parseCandidate(text: string): Candidate {
  const at = text.indexOf(":");
  const provider = text.slice(0, at) as PriceProvider;
  const model = text.slice(at + 1);
  if (at <= 0 || !model || !["openai", "bedrock", "together", "local"].includes(provider)) {
    throw new UsageError("CLI_BAD_OPTION", `--candidate "${text}" is not provider:model`, { fix: "e.g. --candidate openai:gpt-4o-mini-2024-07-18 or --candidate local:8b" });
  }
  if (provider === "local") {
    const size = /^(\d+(?:\.\d+)?)b$/i.exec(model);
    if (!size) throw new UsageError("CLI_BAD_OPTION", `--candidate "${text}": local needs a size like local:8b`, { fix: "pass the model size in billions, e.g. local:1.5b" });
    return { provider, model: `local-${model}`, paramsB: Number(size[1]) };
  }
  return { provider, model };
}

/** Tokens of the train split (records without a split count as train), o200k_base, 4 framing tokens per message. */
async function datasetTokens(ws: Parameters<typeof readVersion>[0], ref: string): Promise<number> {
  let total = 0;
  for await (const record of readVersion(ws, ref)) {
    if (!isTrainedOn(splitOf(record.metadata))) continue;
    const messages = "messages" in record ? record.messages : "input" in record ? [...record.input.messages, ...record.preferred_output] : [{ content: record.text }];
    for (const m of messages as { content?: unknown }[]) total += 4 + (typeof m.content === "string" ? countTokens(m.content) : 0);
  }
  return total;
}
