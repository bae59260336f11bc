import { z } from "zod";

/**
 * A price catalog entry: what one provider charges for one model. Prices are USD. Token prices are per 1M
 * tokens. Every entry names where the figures came from and when they were checked, and lists the fields we
 * are NOT sure of (`unsure`), so the estimate can say "uncertain" instead of pretending.
 */
export const PROVIDERS = ["openai", "bedrock", "together", "local"] as const;
export type PriceProvider = (typeof PROVIDERS)[number];

/**
 * The one price schema for serving tokens, wherever a price is written: catalog entries, `cost.prices` overrides
 * and gateway routes in tunekit.yaml, eval.yaml candidates. Both token prices are required (a forgotten output
 * price used to default to 0 and made every cost look smaller); `perRequest` covers self-hosted serving
 * (GPU-hour cost divided by throughput). Costs are computed by `requestCostUsd` (src/cost/token-cost.ts).
 */
export const TokenPriceSchema = z.strictObject({
  inputPerMTok: z.number().nonnegative().describe("USD per 1M prompt (input) tokens."),
  outputPerMTok: z.number().nonnegative().describe("USD per 1M completion (output) tokens."),
  perRequest: z.number().nonnegative().optional().describe("Fixed USD per request on top (e.g. GPU-hour / throughput); default 0."),
});
export type TokenPrice = z.infer<typeof TokenPriceSchema>;

export const TrainingPriceSchema = z.strictObject({
  /** sft = supervised; dpo = preference. */
  method: z.enum(["sft", "dpo"]),
  /** lora / full for Together; hosted providers do not say (their training is opaque). */
  type: z.enum(["hosted", "lora", "full"]),
  perMTok: z.number().nonnegative(),
});
export type TrainingPrice = z.infer<typeof TrainingPriceSchema>;

export const PriceEntrySchema = z.strictObject({
  provider: z.enum(PROVIDERS),
  /** The id used to fine-tune (e.g. gpt-4o-mini-2024-07-18). */
  model: z.string().min(1),
  aliases: z.array(z.string()).default([]),
  /** Parameter count in billions where known (Together price brackets, local throughput). */
  paramsB: z.number().positive().optional(),
  training: z.array(TrainingPriceSchema),
  /** Serving the base model, per token; null when not offered per token. */
  base: TokenPriceSchema.nullable(),
  /** Serving the fine-tuned model, per token; null when it is only served on reserved capacity. */
  fineTuned: TokenPriceSchema.nullable(),
  /** Reserved capacity to serve the fine-tuned model (provisioned throughput, dedicated endpoint), USD/hour; 0 = none needed; null = unknown. */
  hostingPerHour: z.number().nonnegative().nullable(),
  /** Whether the fine-tuned model can only be served on that reserved capacity. */
  hostingRequired: z.boolean().default(false),
  /** Storage of a custom model, USD/month. */
  storagePerMonth: z.number().nonnegative().default(0),
  source: z.strictObject({ url: z.string().url(), checkedOn: z.string().regex(/^\d{4}-\d{2}-\d{2}$/) }),
  /** Fields whose figures we could not confirm against the source (e.g. "hostingPerHour", "training.dpo"). */
  unsure: z.array(z.string()).default([]),
  note: z.string().optional(),
});
export type PriceEntry = z.infer<typeof PriceEntrySchema>;
export type PriceEntryInput = z.input<typeof PriceEntrySchema>;
