import { z } from "zod";
import { LeakageOptionsSchema } from "./dedupe/options.js";

export const SplitOptionsSchema = z.strictObject({
  seed: z.union([z.string(), z.number()]).default(42).describe("PRNG seed; the same seed and input give the same split"),
  ratios: z
    .strictObject({ train: z.number().min(0).max(1), val: z.number().min(0).max(1), test: z.number().min(0).max(1) })
    .default({ train: 0.8, val: 0.1, test: 0.1 })
    .describe("fractions of records per split; must sum to 1"),
  counts: z
    .strictObject({ val: z.number().int().min(0).default(0), test: z.number().int().min(0).default(0) })
    .optional()
    .describe("exact record counts for val and test (train gets the rest); overrides ratios"),
  stratifyBy: z.string().min(1).optional().describe("metadata field whose values keep their proportions in every split"),
  groupBy: z.string().min(1).optional().describe("metadata field whose records always land in one split (customer, conversation)"),
  field: z.string().min(1).default("split").describe("metadata field the split name is written to"),
  leakage: LeakageOptionsSchema.omit({ splitField: true }).partial().default({}).describe("options of the leakage check run after splitting"),
});
export type SplitOptions = z.infer<typeof SplitOptionsSchema>;
export type SplitOptionsInput = z.input<typeof SplitOptionsSchema>;
