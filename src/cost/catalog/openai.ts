import type { PriceEntryInput } from "./types.js";

/**
 * OpenAI fine-tuning prices (standard tier). OpenAI bills training per trained token (dataset tokens × epochs)
 * and serves fine-tuned models per token with no hosting fee. DPO is billed at the SFT rate per token.
 */
const SOURCE = { url: "https://platform.openai.com/docs/pricing", checkedOn: "2026-11-28" };

export const OPENAI_PRICES: PriceEntryInput[] = [
  {
    provider: "openai",
    model: "gpt-4o-mini-2024-07-18",
    aliases: ["gpt-4o-mini"],
    training: [{ method: "sft", type: "hosted", perMTok: 3 }, { method: "dpo", type: "hosted", perMTok: 3 }],
    base: { inputPerMTok: 0.15, outputPerMTok: 0.6 },
    fineTuned: { inputPerMTok: 0.3, outputPerMTok: 1.2 },
    hostingPerHour: 0,
    source: SOURCE,
    unsure: ["training.dpo"],
  },
  {
    provider: "openai",
    model: "gpt-4o-2024-08-06",
    aliases: ["gpt-4o"],
    training: [{ method: "sft", type: "hosted", perMTok: 25 }, { method: "dpo", type: "hosted", perMTok: 25 }],
    base: { inputPerMTok: 2.5, outputPerMTok: 10 },
    fineTuned: { inputPerMTok: 3.75, outputPerMTok: 15 },
    hostingPerHour: 0,
    source: SOURCE,
    unsure: ["training.dpo"],
  },
  {
    provider: "openai",
    model: "gpt-4.1-2025-04-14",
    aliases: ["gpt-4.1"],
    training: [{ method: "sft", type: "hosted", perMTok: 25 }, { method: "dpo", type: "hosted", perMTok: 25 }],
    base: { inputPerMTok: 2, outputPerMTok: 8 },
    fineTuned: { inputPerMTok: 3, outputPerMTok: 12 },
    hostingPerHour: 0,
    source: SOURCE,
    unsure: ["training.dpo"],
  },
  {
    provider: "openai",
    model: "gpt-4.1-mini-2025-04-14",
    aliases: ["gpt-4.1-mini"],
    training: [{ method: "sft", type: "hosted", perMTok: 5 }, { method: "dpo", type: "hosted", perMTok: 5 }],
    base: { inputPerMTok: 0.4, outputPerMTok: 1.6 },
    fineTuned: { inputPerMTok: 0.8, outputPerMTok: 3.2 },
    hostingPerHour: 0,
    source: SOURCE,
    unsure: ["training.dpo"],
  },
  {
    provider: "openai",
    model: "gpt-4.1-nano-2025-04-14",
    aliases: ["gpt-4.1-nano"],
    training: [{ method: "sft", type: "hosted", perMTok: 1.5 }, { method: "dpo", type: "hosted", perMTok: 1.5 }],
    base: { inputPerMTok: 0.1, outputPerMTok: 0.4 },
    fineTuned: { inputPerMTok: 0.2, outputPerMTok: 0.8 },
    hostingPerHour: 0,
    source: SOURCE,
    unsure: ["training", "fineTuned", "training.dpo"],
  },
];
