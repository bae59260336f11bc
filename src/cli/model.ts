import type { Command } from "commander";
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { ConflictError } from "../errors/index.js";
import { withWorker } from "../runtime/index.js";
import type { CliContext } from "./context.js";
import { resolveModel } from "./generate.js";
import { registerExport } from "./model-export.js";
import { writeModelCard } from "../report/index.js";
import { promoteCandidate } from "../migrate/index.js";
import { resolveModelFolder } from "./hub-download.js";

export function register(program: Command, ctx: CliContext): void {
  const model = program.command("model").description("registered models; pull Hub models into the HF cache; merge a LoRA adapter into its base; export for llama.cpp / Ollama; promote with the quality gate");
  registerExport(model, ctx);

  model
    .command("list")
    .description("base and fine-tuned models with their lineage")
    .action(() =>
      ctx.run(async (out) => {
        const models = await ctx.withWorkspace((ws) => ws.registry.listModels());
        const names = new Map(models.map((m) => [m.id, m.name]));
        out.data({ models });
        out.table(models, [
          { key: "name", header: "NAME" },
          { key: "kind", header: "KIND" },
          { key: "provider", header: "PROVIDER" },
          { key: "base", header: "BASE", value: (m) => (m.baseModelId ? (names.get(m.baseModelId) ?? m.baseModelId) : "") },
          { key: "runId", header: "RUN" },
          { key: "path", header: "PATH" },
          { key: "createdAt", header: "CREATED", value: (m) => m.createdAt.replace("T", " ").slice(0, 19) },
        ]);
      }),
    );

  model
    .command("pull <name>")
    .description("download a Hugging Face Hub model (org/name[@revision]) into the HF cache and print its folder")
    .action((name: string) =>
      ctx.run(async (out) => {
        // refresh: a branch (main) is asked again, so a pull picks up new commits; files already cached are kept.
        const resolved = await resolveModelFolder(name, out, { refresh: true });
        out.data(resolved);
        out.text(resolved.dir);
      }),
    );

  model
    .command("card <run>")
    .description("write the model card of a fine-tuned model (Markdown + HTML) from its training run in the registry")
    .option("--out <dir>", "folder for MODEL_CARD.md and model-card.html (default: reports/model-cards/<model>)")
    .action((run: string, opts: { out?: string }) =>
      ctx.run(async (out) => {
        const card = await ctx.withWorkspace((ws) => writeModelCard(ws, run, { outDir: opts.out }));
        out.data({ markdown: card.markdown, html: card.html, model: card.data.model.name, evals: card.data.evals.map((e) => e.runId) });
        out.text(`model card of ${card.data.model.name} (run ${card.data.run.id}, ${card.data.evals.length} evaluation${card.data.evals.length === 1 ? "" : "s"})`);
        out.text(`  ${card.markdown}`);
        out.text(`  ${card.html}`);
      }),
    );

  model
    .command("promote")
    .description("promote a candidate only when the eval says it is not worse than the reference (non-inferiority gate); ends the gateway experiment in its favour")
    .requiredOption("--eval <run>", "the finished eval run comparing both candidates on the same examples")
    .requiredOption("--candidate <name>", "the candidate to promote (e.g. the migrated model, a GGUF or vLLM copy)")
    .requiredOption("--reference <name>", "the candidate it must not be worse than (e.g. the hosted model, the trained adapter)")
    .option("--margin <x>", "non-inferiority margin in the metric's units (0.02 = 2 points of a fraction metric)", "0.02")
    .option("--metric <name>", "metric of the comparison (default: the eval's primary metric)")
    .option("--experiment <name>", "gateway experiment to end in the candidate's favour")
    .option("--variant <route>", "the candidate's variant in the experiment (default: the candidate's name)")
    .action((opts: { eval: string; candidate: string; reference: string; margin: string; metric?: string; experiment?: string; variant?: string }) =>
      ctx.run(async (out) => {
        const outcome = await ctx.withWorkspace((ws) =>
          promoteCandidate(ws, { evalRunId: opts.eval, candidate: opts.candidate, reference: opts.reference, margin: Number(opts.margin), metric: opts.metric, experiment: opts.experiment, variant: opts.variant, actor: "cli" }),
        );
        out.data(outcome);
        out.text(outcome.verdict.text);
        if (outcome.verdict.outcome === "inconclusive") out.text("promoted on an inconclusive verdict: the candidate is not shown worse, nor shown within the margin; watch the experiment's analysis");
        out.text(outcome.experiment ? `${opts.experiment}: ${outcome.experiment.status} → ${outcome.experiment.winner} (a running gateway applies it within a second)` : `${opts.candidate} passes the gate (no --experiment: nothing was rerouted)`);
      }),
    );

  model
    .command("merge")
    .description("merge a LoRA adapter into its base model and write a Hugging Face folder")
    .requiredOption("--model <dir>", "base model folder (or a registered fine-tuned model name, without --adapter)")
    .option("--adapter <dir>", "LoRA adapter folder (PEFT format)")
    .requiredOption("--out <dir>", "the new model folder (must not exist)")
    .option("--dtype <dtype>", "float32, bfloat16 or float16 (default: the base model's)")
    .action((opts: { model: string; adapter?: string; out: string; dtype?: string }) =>
      ctx.run(async (out) => {
        const target = resolve(opts.out);
        if (existsSync(target)) {
          throw new ConflictError("MODEL_MERGE_OUT_EXISTS", `${target} already exists`, { fix: "pass a new --out folder; merge never overwrites" });
        }
        const { modelDir, adapterDir, config } = await resolveModel(ctx, opts.model, opts.adapter);
        if (!adapterDir) {
          throw new ConflictError("MODEL_MERGE_NO_ADAPTER", `nothing to merge: no adapter for ${opts.model}`, { fix: "pass --adapter DIR" });
        }
        const result = await withWorker(config, (worker) =>
          worker.call("merge", { model_dir: modelDir, adapter_dir: adapterDir, output_dir: target, ...(opts.dtype ? { dtype: opts.dtype } : {}) }),
        );
        out.data({ model: modelDir, adapter: adapterDir, ...result });
        out.text(`merged ${adapterDir} into ${modelDir} → ${target}`);
      }),
    );
}
