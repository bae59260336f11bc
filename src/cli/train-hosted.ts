import { createInterface } from "node:readline/promises";
import { UsageError } from "../errors/index.js";
import { assertProviderOpen, planHostedRun, planWorkDir, submitHostedRun, watchHostedRun, type HostedJobSpec, type HostedPlan, type HostedProvider } from "../providers/index.js";
import type { Workspace } from "../registry/index.js";
import type { TrainSpec } from "../train/index.js";
import type { Output } from "./output.js";

/**
 * `tunekit train --config train.yaml` with `provider: openai|bedrock|together`: export + validate for the
 * target, show tokens, cost and warnings, ask for confirmation (or --yes), submit, then watch (or --detach).
 */
export interface HostedTrainFlags {
  dryRun?: boolean;
  yes?: boolean;
  detach?: boolean;
  allowClosedProvider?: boolean;
}

export function hostedJobSpec(spec: TrainSpec): HostedJobSpec {
  return { provider: spec.provider as HostedProvider, model: spec.model, dataset: spec.dataset, name: spec.name, epochs: spec.epochs, seed: spec.seed, hosted: spec.hosted };
}

export function printHostedPlan(out: Output, plan: HostedPlan): void {
  const s = plan.spec;
  out.text(`${s.provider} fine-tune of ${s.model} on ${s.dataset} (version ${plan.version.id})`);
  out.text(`export ${plan.export.target}: ${plan.export.exported} records${plan.export.skipped ? `, ${plan.export.skipped} left out` : ""}`);
  out.text(`tokens: ${plan.tokens.training.toLocaleString("en-US")} training, ${plan.tokens.validation.toLocaleString("en-US")} validation (${plan.tokens.encoding}${plan.tokens.estimate ? ", estimate" : ""}) × ${plan.epochs} epochs`);
  const e = plan.estimate;
  if (e) out.text(`estimated training cost: ${e.training.costUsd === null ? "unknown" : `$${e.training.costUsd.toFixed(2)}`}${e.uncertain.length ? " (≈ unconfirmed price)" : ""}`);
  for (const w of plan.warnings) out.note(`warning: ${w}`);
}

async function confirm(out: Output, flags: HostedTrainFlags): Promise<void> {
  if (flags.yes) return;
  if (!process.stdin.isTTY || out.json) {
    throw new UsageError("PROVIDER_CONFIRMATION_REQUIRED", "submitting a paid fine-tuning job needs confirmation", { fix: "review the plan (--dry-run) and pass --yes" });
  }
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = (await rl.question("Upload the data and start the paid job? [y/N] ")).trim().toLowerCase();
    if (answer !== "y" && answer !== "yes") throw new UsageError("PROVIDER_NOT_CONFIRMED", "not submitted: you declined", { fix: "run again and answer y, or pass --yes" });
  } finally {
    rl.close();
  }
}

export async function runHostedTrain(ws: Workspace, out: Output, spec: TrainSpec, flags: HostedTrainFlags): Promise<void> {
  const job = hostedJobSpec(spec);
  const plan = await planHostedRun(ws, job, { workDir: planWorkDir(ws, `${Date.now()}-${process.pid}`) });
  printHostedPlan(out, plan);
  if (flags.dryRun) {
    out.data({ plan });
    return;
  }
  // Refuse a closed service before asking to confirm a job that cannot be created.
  assertProviderOpen(job.provider, { allowClosedProvider: flags.allowClosedProvider });
  await confirm(out, flags);
  let run = await submitHostedRun(ws, plan, {}, undefined, { allowClosedProvider: flags.allowClosedProvider });
  const jobId = (run.result as { jobId: string }).jobId;
  out.note(`submitted ${job.provider} job ${jobId} as run ${run.id}; \`tunekit runs watch ${run.id}\` picks it up if this stops`);
  if (!flags.detach) {
    run = await watchHostedRun(ws, run.id, {
      onEvent: (e) => out.text(`${e.createdAt.slice(11, 19)} ${e.message}`),
      onState: (s) => out.note(`${s.status} (${s.providerStatus})`),
    });
  }
  out.data({ plan, run });
  out.text(`${run.id} ${run.status}`);
}
