import type { Command } from "commander";
import { UsageError } from "../errors/index.js";
import { runMigration, type MigrateReporter } from "../migrate/index.js";
import type { CliContext } from "./context.js";
import type { Output } from "./output.js";
import { parseIntegerFlag } from "./parse-flags.js";

interface MigrateFlags {
  fromOpenaiJob: string;
  to: string;
  name?: string;
  margin: string;
  metric: string;
  distillFromLogs?: string;
  baseUrl?: string;
  apiKeyEnv: string;
  traffic: string;
  maxSteps?: string;
  seqLen: string;
  maxTokens: string;
  device?: string;
  dryRun?: boolean;
}

export function register(program: Command, ctx: CliContext): void {
  program
    .command("migrate")
    .description("move a hosted OpenAI fine-tune to an open-weight model you own: import its data, train locally, compare old vs new, set up the A/B experiment (re-run to resume)")
    .requiredOption("--from-openai-job <id>", "the succeeded OpenAI fine-tuning job (ftjob-…)")
    .requiredOption("--to <dir|org/name[@rev]>", "base model of the replacement: a Hugging Face folder, or a Hub name (downloaded into the HF cache)")
    .option("--name <name>", "names the dataset, routes and experiment (default: migrate-<job id>)")
    .option("--margin <x>", "non-inferiority margin in the metric's units (0.02 = 2 points of token_f1)", "0.02")
    .option("--metric <m>", "comparison metric: token_f1, chrf, rouge_l, exact_match or normalized_match", "token_f1")
    .option("--distill-from-logs <model>", "also train on the gateway's logged answers of this model id or route (PII redacted, deduplicated, leakage-checked)")
    .option("--base-url <url>", "OpenAI API base URL (default https://api.openai.com/v1)")
    .option("--api-key-env <name>", "env var holding the OpenAI API key", "OPENAI_API_KEY")
    .option("--traffic <share>", "share of the old model's traffic the experiment sends to the replacement", "0.1")
    .option("--max-steps <n>", "cap on training steps (default: the job's epochs decide)")
    .option("--seq-len <n>", "training sequence length", "1024")
    .option("--max-tokens <n>", "most tokens per answer in the comparison", "256")
    .option("--device <device>", "training device: auto, cpu, cuda or cuda:N (default: worker.device)")
    .option("--dry-run", "read the job, download and count its files, and print the plan; write nothing")
    .action((flags: MigrateFlags) =>
      ctx.run(async (out) => {
        const result = await ctx.withWorkspace((ws) =>
          runMigration(
            ws,
            {
              jobId: flags.fromOpenaiJob, to: flags.to, name: flags.name, margin: numberFlag(flags.margin, "--margin"), metric: flags.metric as "token_f1", distillFromLogs: flags.distillFromLogs,
              baseURL: flags.baseUrl, apiKeyEnv: flags.apiKeyEnv, traffic: numberFlag(flags.traffic, "--traffic"), maxSteps: parseIntegerFlag(flags.maxSteps, "--max-steps", { min: 1 }),
              seqLen: parseIntegerFlag(flags.seqLen, "--seq-len", { min: 8 }), maxTokens: parseIntegerFlag(flags.maxTokens, "--max-tokens", { min: 1 }), device: flags.device, dryRun: Boolean(flags.dryRun),
            },
            outputReporter(out),
          ),
        );
        out.data(result);
        if (result.dryRun) {
          out.text("dry run: nothing was written. Run without --dry-run to migrate.");
          return;
        }
        out.text("");
        out.text(`verdict: ${result.verdict?.text}`);
        out.text(`cutover: ${result.cutover}`);
      }),
    );
}

/** A decimal flag; the range is the options schema's to check (it reports every bad option at once). */
function numberFlag(value: string, flag: string): number {
  const n = value.trim() === "" ? Number.NaN : Number(value);
  if (Number.isFinite(n)) return n;
  throw new UsageError("MIGRATE_BAD_OPTIONS", `${flag} must be a number, got ${JSON.stringify(value)}`, { fix: `pass e.g. ${flag} ${flag === "--margin" ? "0.02" : "0.1"}` });
}

/** One line per step: what ran, what was skipped (finished in an earlier run), what a dry run would do. */
function outputReporter(out: Output): MigrateReporter {
  let n = 0;
  const mark = { run: "✓", skip: "↷", plan: "·" } as const;
  return {
    step: (step, state, detail) => out.text(`${mark[state]} [${++n}/6] ${out.colors.bold(step)}  ${detail}`),
    line: (text) => out.text(text),
    progress: (options) => out.progress(options),
  };
}
