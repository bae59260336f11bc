import type { PriceEntryInput } from "./types.js";

/**
 * Amazon Bedrock model customization, Claude 3 Haiku (US West, Oregon). Training is billed per token processed
 * (dataset tokens × epochs); a custom model is stored monthly and can ONLY be served on Provisioned Throughput
 * (model units billed per hour whether used or not) — on-demand per-token serving is not offered for it.
 * We could not confirm the per-model-unit hourly price of a customized Claude 3 Haiku: it is null here and the
 * estimate reports the hosting cost as unknown until `cost.prices` in tunekit.yaml sets it.
 */
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
];
