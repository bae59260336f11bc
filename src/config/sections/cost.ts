import { z } from "zod";
import { TokenPriceSchema as TokenPrice } from "../../cost/index.js";

/** One price override: any of an entry's figures for provider/model (a new model is added to the catalog). */
export const PriceOverrideSchema = z.strictObject({
  provider: z.enum(["openai", "bedrock", "together", "local"]),
  model: z.string().min(1),
  training: z
    .array(z.strictObject({ method: z.enum(["sft", "dpo"]), type: z.enum(["hosted", "lora", "full"]), perMTok: z.number().nonnegative() }))
    .optional()
    .describe("Training price per 1M trained tokens."),
  base: TokenPrice.nullable().optional().describe("Base model inference price per 1M tokens."),
  fineTuned: TokenPrice.nullable().optional().describe("Fine-tuned model inference price per 1M tokens."),
  hostingPerHour: z.number().nonnegative().nullable().optional().describe("Provisioned throughput / dedicated endpoint, USD per hour."),
  storagePerMonth: z.number().nonnegative().optional(),
  paramsB: z.number().positive().optional(),
  source: z.string().url().optional().describe("Where your figure comes from (e.g. your contract)."),
});

export const CostSectionSchema = z
  .strictObject({
    gpuHourlyRate: z.number().nonnegative().default(3.5).describe("USD per GPU-hour for self-hosted training (default: an assumed H200 rental rate)."),
    gpuCount: z.number().int().positive().default(1).describe("GPUs used by a self-hosted run."),
    localTokensPerSecond: z.number().positive().optional().describe("Measured trainer throughput (tokens/s per run); replaces the assumed table."),
    dataPrepHourlyRate: z.number().nonnegative().default(75).describe("USD per hour of people preparing data (ROI input)."),
    dataPrepHours: z.number().nonnegative().default(0).describe("Hours spent preparing the dataset (ROI input)."),
    retirementWarningDays: z.number().int().nonnegative().default(90).describe("Warn when a base model retires, or a hosted fine-tuning service closes to new jobs, within this many days (plan, estimate, advise)."),
    prices: z.array(PriceOverrideSchema).default([]).describe("Overrides of the built-in price catalog."),
  })
  .default({ gpuHourlyRate: 3.5, gpuCount: 1, dataPrepHourlyRate: 75, dataPrepHours: 0, retirementWarningDays: 90, prices: [] });

export type CostSection = z.infer<typeof CostSectionSchema>;
