import { z } from "zod";

/** `tunekit migrate` options: one schema for the library call and the command's flags. */
export const MigrateOptionsSchema = z.strictObject({
  jobId: z.string().min(1).describe("the OpenAI fine-tuning job to migrate from (ftjob-…)"),
  to: z.string().min(1).describe("base model folder of the replacement (a Hugging Face folder you own)"),
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,40}$/, "letters, digits, '.', '_' or '-', at most 41").optional().describe("names the dataset, the routes and the experiment (default: migrate-<job id suffix>)"),
  margin: z.number().min(0).default(0.02).describe("non-inferiority margin in the metric's units (0.02 = 2 points of token_f1)"),
  metric: z.enum(["token_f1", "chrf", "rouge_l", "exact_match", "normalized_match"]).default("token_f1").describe("primary metric of the old-vs-new comparison"),
  distillFromLogs: z.string().min(1).optional().describe("model id or gateway route whose logged answers become extra training records"),
  baseURL: z.url().optional().describe("OpenAI API base URL (default https://api.openai.com/v1)"),
  apiKeyEnv: z.string().min(1).default("OPENAI_API_KEY").describe("env var holding the OpenAI key"),
  traffic: z.number().gt(0).lte(1).default(0.1).describe("share of the old model's traffic the experiment sends to the replacement"),
  maxSteps: z.number().int().positive().optional().describe("cap on training steps (default: the job's epochs decide)"),
  seqLen: z.number().int().min(8).default(1024).describe("training sequence length"),
  maxTokens: z.number().int().positive().default(256).describe("most tokens per answer in the comparison"),
  device: z.string().optional().describe("training device (default: worker.device in tunekit.yaml)"),
  seed: z.number().int().default(42).describe("seed of the held-out split when the job has no validation file"),
  resamples: z.number().int().min(100).default(2000).describe("bootstrap resamples of the comparison"),
  dryRun: z.boolean().default(false).describe("read the job, download and count its files, and show the plan; write nothing"),
});
export type MigrateOptions = z.infer<typeof MigrateOptionsSchema>;
export type MigrateOptionsInput = z.input<typeof MigrateOptionsSchema>;

export function migrationName(options: Pick<MigrateOptions, "name" | "jobId">): string {
  return options.name ?? `migrate-${options.jobId.replace(/^ftjob-/, "").replace(/[^A-Za-z0-9._-]/g, "").slice(0, 24).toLowerCase() || "job"}`;
}

export const MIGRATION_STEPS = ["job", "import", "distill", "train", "compare", "experiment"] as const;
export type MigrationStep = (typeof MIGRATION_STEPS)[number];
