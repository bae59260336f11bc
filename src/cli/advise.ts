import type { Command } from "commander";
import { UsageError } from "../errors/index.js";
import { PriceCatalog } from "../cost/index.js";
import { advise, catalogTrainingPrice, profileTrainSplit, type EvalSuite, type EvalSummary } from "../eval/index.js";
import type { CliContext } from "./context.js";

/** `tunekit advise --eval RUN`: keep prompting, add retrieval, fine-tune, or collect data — with the numbers. */
export function register(program: Command, ctx: CliContext): void {
  program
    .command("advise")
    .description("should you fine-tune? a recommendation from a baseline eval, the dataset and the costs")
    .option("--eval <run>", "the baseline eval run (default: the latest succeeded eval run)")
    .option("--target <value>", "the quality the task needs, in the primary metric's units (e.g. 0.9 for 90% accuracy)")
    .option("--volume <n>", "requests per month (default: the eval's volume)")
    .option("--changing-requirements", "the task's requirements change often")
    .option("--knowledge-heavy", "answers depend on facts from documents")
    .option("--train-price <usd>", "USD per million training tokens (default: the price catalog's training price for the best baseline's model; none known: the training cost is reported as unavailable)")
    .option("--epochs <n>", "training epochs for the cost estimate", "3")
    .action((opts: { eval?: string; target?: string; volume?: string; changingRequirements?: boolean; knowledgeHeavy?: boolean; trainPrice?: string; epochs: string }) =>
      ctx.run(async (out) => {
        const num = (v: string | undefined, flag: string) => {
          if (v === undefined) return undefined;
          const n = Number(v);
          if (!Number.isFinite(n) || n < 0) throw new UsageError("CLI_BAD_OPTION", `${flag} "${v}" is not a non-negative number`, { fix: `e.g. ${flag} 0.9` });
          return n;
        };
        const advice = await ctx.withWorkspace(async (ws) => {
          const runId = opts.eval ?? (await ws.registry.listRuns({ kind: "eval", status: "succeeded", limit: 1 }))[0]?.id;
          if (!runId) throw new UsageError("EVAL_NO_BASELINE", "no succeeded eval run to advise from", { fix: "run a baseline first: tunekit eval run --config eval.yaml" });
          const run = await ws.registry.getRun(runId);
          if (run.kind !== "eval" || run.status !== "succeeded" || !run.result) {
            throw new UsageError("EVAL_NO_BASELINE", `run ${runId} is not a succeeded eval run (${run.kind}, ${run.status})`, { fix: "pass --eval with a succeeded eval run id (tunekit runs list --kind eval)" });
          }
          const suite = (run.config as { suite: EvalSuite }).suite;
          const summary = run.result as unknown as EvalSummary;
          // No invented price: the flag, else the catalog entry of the model a fine-tune would start from.
          const flagPrice = num(opts.trainPrice, "--train-price");
          const catalogPrice = flagPrice === undefined ? catalogTrainingPrice(summary, PriceCatalog.withOverrides(ws.config.cost.prices)) : undefined;
          const profile = await profileTrainSplit(ws, run.datasetVersionId ?? suite.dataset.version, suite.dataset.trainSplit);
          const result = advise({
            summary,
            trainExamples: profile.trainExamples,
            labelCounts: profile.labelCounts,
            target: num(opts.target, "--target"),
            monthlyVolume: num(opts.volume, "--volume"),
            changingRequirements: opts.changingRequirements,
            knowledgeHeavy: opts.knowledgeHeavy,
            trainPricePerMTok: flagPrice ?? catalogPrice?.perMTok,
            trainPriceSource: flagPrice !== undefined ? "--train-price" : catalogPrice?.source,
            epochs: num(opts.epochs, "--epochs"),
            warnDays: ws.config.cost.retirementWarningDays,
          });
          return { runId, ...result };
        });
        out.data(advice);
        out.text(out.colors.bold(`${advice.headline}`) + `  (from eval ${advice.runId})`);
        for (const r of advice.reasons) out.text(`  • ${r}`);
        out.text("\nnumbers");
        for (const [k, v] of Object.entries(advice.numbers)) if (v !== null) out.text(`  ${k}: ${typeof v === "number" ? Math.round(v * 10000) / 10000 : v}`);
      }),
    );
}
