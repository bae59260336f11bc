import type { PriceEntryInput } from "./types.js";

/**
 * Amazon Bedrock model customization: Claude 3 Haiku (US West, Oregon), Amazon Nova Micro/Lite/Pro (US East,
 * N. Virginia) and Meta Llama 3.1/3.2 (US West, Oregon). Training is billed per token processed (dataset tokens
 * × epochs); a custom model is stored monthly. Custom Claude and Llama models are served only on Provisioned
 * Throughput (model units billed per hour whether used or not); custom Nova models can also be served on demand
 * per token (unconfirmed). We could not confirm any per-model-unit hourly price of a custom model: hostingPerHour
 * is null and the estimate reports hosting as unknown until `cost.prices` in tunekit.yaml sets it.
 * Every customization figure below is as remembered from the Bedrock pricing page's model-customization table,
 * not re-confirmed on 2026-12-03: each is listed in `unsure`. On-demand base-model token prices are the
 * page's per-1M-token figures.
 */
const SOURCE = { url: "https://aws.amazon.com/bedrock/pricing/", checkedOn: "2026-12-03" };

function llama(model: string, aliases: string[], paramsB: number, trainPerMTok: number, inputPerMTok: number, outputPerMTok: number): PriceEntryInput {
  return {
    provider: "bedrock", model, aliases, paramsB,
    training: [{ method: "sft", type: "hosted", perMTok: trainPerMTok }],
    base: { inputPerMTok, outputPerMTok },
    fineTuned: null,
    hostingPerHour: null,
    hostingRequired: true,
    storagePerMonth: 1.95,
    source: SOURCE,
    unsure: ["training.sft", "storagePerMonth", "hostingPerHour", "base"],
    note: `training $${(trainPerMTok / 1000).toFixed(5)} per 1,000 tokens as remembered; custom Llama models are served on Provisioned Throughput only`,
  };
}

function nova(model: string, aliases: string[], trainPerMTok: number, inputPerMTok: number, outputPerMTok: number): PriceEntryInput {
  return {
    provider: "bedrock", model, aliases,
    training: [{ method: "sft", type: "hosted", perMTok: trainPerMTok }],
    base: { inputPerMTok, outputPerMTok },
    // On-demand inference of a custom Nova model at the base model's token price, no hosting fee (unconfirmed).
    fineTuned: { inputPerMTok, outputPerMTok },
    hostingPerHour: 0,
    storagePerMonth: 1.95,
    source: SOURCE,
    unsure: ["training.sft", "storagePerMonth", "fineTuned", "hostingPerHour"],
    note: `training $${(trainPerMTok / 1000).toFixed(4)} per 1,000 tokens as remembered; on-demand serving of custom Nova models at base token prices is unconfirmed (Provisioned Throughput is the documented alternative)`,
  };
}

export const BEDROCK_PRICES: PriceEntryInput[] = [
  {
    provider: "bedrock",
    model: "anthropic.claude-3-haiku-20240307-v1:0:200k",
    aliases: ["anthropic.claude-3-haiku-20240307-v1:0", "claude-3-haiku", "claude-3-haiku-20240307"],
    training: [{ method: "sft", type: "hosted", perMTok: 8 }],
    base: { inputPerMTok: 0.25, outputPerMTok: 1.25 },
    fineTuned: null,
    hostingPerHour: null,
    hostingRequired: true,
    storagePerMonth: 1.95,
    source: { url: "https://aws.amazon.com/bedrock/pricing/", checkedOn: "2026-11-28" },
    unsure: ["training.sft", "storagePerMonth", "hostingPerHour"],
    note: "training $0.008 per 1,000 tokens as remembered from the Bedrock pricing page's model-customization table; not re-confirmed",
  },
  nova("amazon.nova-micro-v1:0:128k", ["amazon.nova-micro-v1:0", "nova-micro"], 1, 0.035, 0.14),
  nova("amazon.nova-lite-v1:0:300k", ["amazon.nova-lite-v1:0", "nova-lite"], 2, 0.06, 0.24),
  nova("amazon.nova-pro-v1:0:300k", ["amazon.nova-pro-v1:0", "nova-pro"], 8, 0.8, 3.2),
  llama("meta.llama3-1-8b-instruct-v1:0:128k", ["meta.llama3-1-8b-instruct-v1:0"], 8, 1.49, 0.22, 0.22),
  llama("meta.llama3-1-70b-instruct-v1:0:128k", ["meta.llama3-1-70b-instruct-v1:0"], 70, 7.99, 0.72, 0.72),
  llama("meta.llama3-2-1b-instruct-v1:0:128k", ["meta.llama3-2-1b-instruct-v1:0"], 1, 0.5, 0.1, 0.1),
  llama("meta.llama3-2-3b-instruct-v1:0:128k", ["meta.llama3-2-3b-instruct-v1:0"], 3, 0.8, 0.15, 0.15),
  llama("meta.llama3-2-11b-instruct-v1:0:128k", ["meta.llama3-2-11b-instruct-v1:0"], 11, 1.5, 0.16, 0.16),
  llama("meta.llama3-2-90b-instruct-v1:0:128k", ["meta.llama3-2-90b-instruct-v1:0"], 90, 8, 0.72, 0.72),
];
