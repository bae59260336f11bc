import type { Command } from "commander";
import { mkdtemp, rm } from "node:fs/promises";
import { join } from "node:path";
import type { Workspace } from "../registry/index.js";
import { ASSUMED_CPU, probeHardware, cancelRun, resumeRun, startTrainRun, buildPlan, compileRunData, resolveTrainSpecInput, parseTrainSpec, readTrainSpecInput, safeParseTrainSpec, type TrainRunHooks, type TrainRunOutcome, type TrainPlan, type ResolvedTrainSpec } from "../train/index.js";
import { pythonCandidates } from "../runtime/index.js";
import { prefetchHubModel } from "./hub-download.js";
import type { CliContext } from "./context.js";
import { runHostedTrain } from "./train-hosted.js";
import { formatDuration, type Output, type ProgressHandle } from "./output.js";
import { parseIntegerFlag } from "./parse-flags.js";

export function register(program: Command, ctx: CliContext): void {
  program
    .command("train")
    .description("fine-tune a model from a job spec (train.yaml): validate, compile data, train, record, register")
    .requiredOption("--config <file>", "the job spec (train.yaml)")
    .option("--dry-run", "validate and print the resolved plan (tokens, steps, time and memory estimates); train nothing")
    .option("--set <key=value>", "override a spec key, e.g. --set lora.r=16 (repeatable)", collect, [] as string[])
    .option("--yes", "hosted providers: submit the paid job without asking")
    .option("--detach", "hosted providers: submit and return; follow with `tunekit runs watch RUN`")
    .option("--allow-closed-provider", "hosted providers: submit even though the provider's fine-tuning service has closed to new jobs (only if your organisation still has access; see docs/leaving-openai.md)")
    .action((opts: { config: string; dryRun?: boolean; set: string[]; yes?: boolean; detach?: boolean; allowClosedProvider?: boolean }) =>
      ctx.run(async (out) => {
        const input = readTrainSpecInput(opts.config, opts.set);
        await ctx.withWorkspace(async (ws) => {
          if ((input.provider ?? "local") !== "local") return runHostedTrain(ws, out, parseTrainSpec(input, opts.config), opts);
          // Only a valid spec downloads (with a progress bar); an invalid one gets every problem first.
          // (a dry run fetches config and tokenizer only: the plan reads nothing else)
          if (safeParseTrainSpec(input, opts.config).spec) await prefetchHubModel(input.model, ws.root, out, opts.dryRun ? "plan" : "model");
          // Schema mistakes and missing model/dataset are reported together, before any compute.
          const resolved = await resolveTrainSpecInput(ws, input, opts.config, { planOnly: Boolean(opts.dryRun) });
          if (opts.dryRun) {
            const plan = await dryRunPlan(ws, resolved);
            out.data({ plan });
            printPlan(out, plan);
            return;
          }
          const outcome = await startTrainRun(ws, resolved, progressHooks(out));
          report(out, outcome);
        });
      }),
    );

  const runs = program.commands.find((c) => c.name() === "runs");
  if (!runs) throw new Error("register the runs command group before train");
  runs
    .command("resume <run>")
    .description("continue an interrupted, paused or failed training run from its newest checkpoint (same run id)")
    .action((id: string) =>
      ctx.run(async (out) => {
        await ctx.withWorkspace(async (ws) => report(out, await resumeRun(ws, id, progressHooks(out))));
      }),
    );
  runs
    .command("cancel <run>")
    .description("stop a run: a running local run is paused (checkpoint, then stop; `runs resume` continues it), a job of `tunekit serve`'s fine-tuning API is cancelled through the registry (the server is never signalled), a hosted job is cancelled at the provider, anything else is cancelled for good")
    .option("--wait <seconds>", "how long to wait for a running run to stop", "120")
    .action((id: string, opts: { wait: string }) =>
      ctx.run(async (out) => {
        const waitMs = parseIntegerFlag(opts.wait, "--wait") * 1000;
        const { run, action } = await ctx.withWorkspace((ws) => cancelRun(ws, id, { waitMs, note: (line) => out.note(line) }));
        out.data({ run, action });
        if (action === "paused") {
          const steps = (run.result as { steps?: number } | null)?.steps;
          out.text(`${run.id} ${run.status}${steps !== undefined ? ` at step ${steps}` : ""} (checkpoint written)`);
          out.text(`  continue with: tunekit runs resume ${run.id}`);
          out.text(`  cancel it for good with: tunekit runs cancel ${run.id}`);
        } else out.text(`${run.id} ${run.status}`);
      }),
    );
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

async function dryRunPlan(ws: Workspace, resolved: ResolvedTrainSpec): Promise<TrainPlan> {
  const tmp = await mkdtemp(join(ws.stateDir, "tmp-plan-"));
  try {
    const compiled = await compileRunData(ws, resolved, join(tmp, "data"));
    const pythons = pythonCandidates({ configured: ws.config.worker.python }).map((c) => c.python);
    const hardware = (await probeHardware(pythons, resolved.spec.device)) ?? ASSUMED_CPU;
    return buildPlan(resolved, compiled.header, hardware);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

export function printPlan(out: Output, p: TrainPlan): void {
  const mib = (b: number) => `${(b / 2 ** 20).toFixed(b < 2 ** 20 ? 2 : 0)} MiB`;
  out.text(`plan (dry run: nothing trained)`);
  out.text(`  model      ${p.model.dir} (${p.model.architecture}, ${p.model.parameters.toLocaleString("en")} parameters)`);
  out.text(`  method     ${p.method}: training ${p.trainableParameters.toLocaleString("en")} parameters`);
  out.text(`  dataset    ${p.dataset.ref} (${Object.entries(p.dataset.records).filter(([, n]) => n > 0).map(([k, n]) => `${k} ${n}`).join(", ")} records)`);
  out.text(`  data       seq len ${p.data.seqLen}${p.data.packing ? ", packed" : ""}: ${p.data.trainSequences} train sequences, ${p.data.tokensPerEpoch.toLocaleString("en")} tokens per epoch (${p.data.trainedTokensPerEpoch.toLocaleString("en")} trained), val ${p.data.valSequences} sequences; ${p.data.truncatedDocuments} truncated`);
  out.text(`  steps      ${p.steps.totalSteps} (${p.steps.stepsPerEpoch} per epoch × ${+p.steps.epochs.toFixed(2)} epochs; ${p.steps.sequencesPerStep} sequences = ${p.steps.tokensPerStep.toLocaleString("en")} tokens per step)`);
  out.text(`  hardware   ${p.hardware.name}${p.hardware.gpus > 1 ? ` ×${p.hardware.gpus}` : ""}`);
  const m = p.estimate.memory;
  out.text(`  estimate   time ≈ ${formatDuration(p.estimate.seconds)} (${p.estimate.totalFlops.toExponential(2)} FLOPs)`);
  out.text(`             memory ≈ ${mib(m.total)}: weights ${mib(m.weights)}, gradients ${mib(m.gradients)}, optimizer ${mib(m.optimizer)}, activations ${mib(m.activations)}${m.available ? ` of ${mib(m.available)}${p.estimate.fits ? "" : " — does NOT fit"}` : ""}`);
  for (const n of p.estimate.notes) out.text(`             (${n})`);
}

function progressHooks(out: Output): TrainRunHooks {
  let bar: ProgressHandle | null = null;
  return {
    onRun: (run, paths) => out.note(`run ${run.id}: output ${paths.outputDir}`),
    note: (line) => out.note(line),
    onProgress: (e) => {
      bar ??= out.progress({ total: e.total_steps, label: "train" });
      bar.tick(e.step, { loss: e.loss === null ? "nan" : e.loss.toFixed(4), "tok/s": Math.round(e.tokens_per_s) });
    },
    onEvent: (e) => {
      if (e.event === "metric" && e.name === "val/loss" && e.value !== null) out.note(`step ${e.step}: val loss ${e.value.toFixed(4)}`);
      if (e.event === "log" && e.level !== "stderr") out.note(e.message);
    },
  };
}

function report(out: Output, { run, model, result }: TrainRunOutcome): void {
  out.data({ run, model, result });
  if (!result) return;
  out.text(`${run.id} ${run.status}: ${result.steps}/${result.total_steps} steps (${result.stopped}), ${result.tokens_trained.toLocaleString("en")} tokens`);
  if (result.final_train_loss !== null) out.text(`  final train loss ${result.final_train_loss.toFixed(4)}`);
  if (result.best_val_loss !== null) out.text(`  best val loss ${result.best_val_loss.toFixed(4)} at step ${result.best_step}`);
  if (model) out.text(`  model ${model.name} (${model.id}) → ${model.path}`);
  if (run.status === "paused") out.text(`  paused by \`tunekit runs cancel\`; continue with: tunekit runs resume ${run.id}`);
  else if (run.status === "interrupted") out.text(`  continue with: tunekit runs resume ${run.id}`);
}
