import { z } from "zod";

/** Options shared by dedupe and the leakage check. Every field has a default, so `{}` parses. */
export const DetectionOptionsSchema = z.strictObject({
  threshold: z.number().gt(0).lte(1).default(0.8).describe("Jaccard similarity of word shingles for near-duplicates"),
  numPerm: z.number().int().min(16).max(1024).default(128).describe("MinHash permutations"),
  ngram: z.number().int().min(1).max(10).default(3).describe("words per shingle"),
  bands: z.number().int().positive().optional().describe("LSH bands (default: chosen for the threshold)"),
  rows: z.number().int().positive().optional().describe("LSH rows per band (default: chosen for the threshold)"),
  seed: z.number().int().default(1).describe("MinHash seed"),
  near: z.boolean().default(true).describe("find near-duplicates, not only exact ones"),
  includeSystem: z.boolean().default(false).describe("compare system messages too (off: a shared system prompt would make everything similar)"),
  maxClustersReported: z.number().int().min(0).default(20).describe("clusters described in the report with sample texts"),
  sampleChars: z.number().int().min(20).default(160).describe("characters of each sample text in the report"),
});

export const DedupeOptionsSchema = DetectionOptionsSchema.extend({
  keep: z
    .enum(["first", "longest"])
    .default("first")
    .describe("representative kept per cluster: the first occurrence (stable order) or the longest text (ties: first)"),
});
export type DedupeOptions = z.infer<typeof DedupeOptionsSchema>;
export type DedupeOptionsInput = z.input<typeof DedupeOptionsSchema>;

export const SPLIT_NAMES = ["train", "val", "test"] as const;

export const LeakageOptionsSchema = DetectionOptionsSchema.extend({
  splitField: z.string().min(1).default("split").describe("metadata field holding the split name"),
  priority: z
    .array(z.string().min(1))
    .min(2)
    .default(["test", "val", "train"])
    .describe("when a cluster spans splits, the copy in the earliest split listed stays; copies elsewhere are dropped"),
  resolve: z.boolean().default(true).describe("drop leaked copies (false: report only)"),
});
export type LeakageOptions = z.infer<typeof LeakageOptionsSchema>;
export type LeakageOptionsInput = z.input<typeof LeakageOptionsSchema>;
