import type { PriceEntryInput, TrainingPrice } from "./types.js";

/**
 * Together AI fine-tuning: billed per token processed (epochs × training tokens + evals × validation tokens),
 * priced by model-size bracket, SFT/DPO and LoRA/full. LoRA fine-tunes of supported models are served
 * serverless at the base model's per-token price; full fine-tunes need a dedicated endpoint (per hour).
 */
const SOURCE = { url: "https://www.together.ai/pricing#fine-tuning", checkedOn: "2026-11-28" };
const DOCS = "https://docs.together.ai/docs/fine-tuning-pricing";

/** Per-1M-token training prices by parameter bracket (billions). */
export const TOGETHER_BRACKETS: { upToB: number; lora: { sft: number; dpo: number }; full: { sft: number; dpo: number } }[] = [
  { upToB: 16, lora: { sft: 0.48, dpo: 1.2 }, full: { sft: 0.54, dpo: 1.35 } },
  { upToB: 69, lora: { sft: 1.5, dpo: 3.75 }, full: { sft: 1.65, dpo: 4.12 } },
  { upToB: 100, lora: { sft: 2.9, dpo: 7.25 }, full: { sft: 3.2, dpo: 8 } },
];

export function togetherTrainingPrices(paramsB: number): TrainingPrice[] {
  const bracket = TOGETHER_BRACKETS.find((b) => paramsB <= b.upToB) ?? TOGETHER_BRACKETS[TOGETHER_BRACKETS.length - 1];
  return [
    { method: "sft", type: "lora", perMTok: bracket.lora.sft },
    { method: "dpo", type: "lora", perMTok: bracket.lora.dpo },
    { method: "sft", type: "full", perMTok: bracket.full.sft },
    { method: "dpo", type: "full", perMTok: bracket.full.dpo },
  ];
}

function entry(model: string, paramsB: number, perMTok: number, aliases: string[] = []): PriceEntryInput {
  return {
    provider: "together",
    model,
    aliases,
    paramsB,
    training: togetherTrainingPrices(paramsB),
    base: { inputPerMTok: perMTok, outputPerMTok: perMTok },
    fineTuned: { inputPerMTok: perMTok, outputPerMTok: perMTok },
    hostingPerHour: 0,
    source: SOURCE,
    unsure: ["training.dpo", "fineTuned"],
    note: `token accounting: ${DOCS}`,
  };
}

export const TOGETHER_PRICES: PriceEntryInput[] = [
  entry("meta-llama/Meta-Llama-3.1-8B-Instruct-Reference", 8, 0.18, ["meta-llama/Meta-Llama-3.1-8B-Instruct-Turbo"]),
  entry("meta-llama/Meta-Llama-3.1-70B-Instruct-Reference", 70, 0.88, ["meta-llama/Meta-Llama-3.1-70B-Instruct-Turbo"]),
  entry("Qwen/Qwen2.5-7B-Instruct", 7, 0.3),
  entry("Qwen/Qwen2.5-72B-Instruct", 72, 1.2),
];
