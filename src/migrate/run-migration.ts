import { ConflictError, UsageError } from "../errors/index.js";
import type { NonInferiorityVerdict } from "../eval/index.js";
import { currentOwner, type Run, type Workspace } from "../registry/index.js";
import { compareOldNew } from "./compare.js";
import { assertGatewayLog, distillFromLogs, type DistillReport } from "./distill.js";
import { setupExperiment } from "./experiment.js";
import { assertEnoughRecords, commitJobFiles, downloadJobFiles, readHostedJob, type DownloadedJobFiles, type HostedJob, type OpenAiAccess } from "./hosted-job.js";
import { MigrateOptionsSchema, migrationName, type MigrateOptions, type MigrateOptionsInput, type MigrationStep } from "./options.js";
import { assertBaseModel, hasValSplit, mapHyperparameters, replacementSpec, trainReplacement } from "./replacement.js";

/**
 * `tunekit migrate` as a library call: hosted OpenAI fine-tune → a model the user owns. One `migration` run
 * ties the steps together; each finished step is a run event (name "step") holding what it produced, so a
 * re-run of the same job and base model skips finished steps and resumes an interrupted training run. The
 * lineage is the chain job → dataset versions → train run → model → eval run → experiment.
 */
export interface MigrateReporter {
  step(step: MigrationStep, state: "run" | "skip" | "plan", detail: string): void;
  line(text: string): void;
  /** A live bar for training (optional: tests and --json leave it out). */
  progress?(options: { total: number; label: string }): { tick(done: number, fields?: Record<string, string | number>): void; done(): void };
}

export interface LineageLink {
  kind: "openai-job" | "dataset-version" | "train-run" | "model" | "eval-run" | "experiment";
  id: string;
  label: string;
}

export interface MigrationResult {
  runId: string | null;
  dryRun: boolean;
  name: string;
  job: HostedJob;
  datasetVersions: { training: string; heldOut: string; distilled: string | null } | null;
  distill: DistillReport | null;
  trainRunId: string | null;
  model: { name: string; adapterDir: string } | null;
  evalRunId: string | null;
  verdict: NonInferiorityVerdict | null;
  experiment: { name: string; routes: string[]; configPath: string } | null;
  cutover: string | null;
  steps: { step: MigrationStep; status: "done" | "skipped" | "planned" | "not requested" }[];
  lineage: LineageLink[];
}

type StepData = Record<string, unknown>;

/** Every bad option at once, named as its flag (--margin, --traffic …). */
export function parseMigrateOptions(input: MigrateOptionsInput): MigrateOptions {
  const parsed = MigrateOptionsSchema.safeParse(input);
  if (parsed.success) return parsed.data;
  const flag = (key: string) => `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
  const shown = (v: unknown) => (typeof v === "number" ? String(v) : JSON.stringify(v ?? null));
  const problems = parsed.error.issues.map((i) => `${flag(String(i.path[0] ?? "options"))} = ${shown((input as Record<string, unknown>)[String(i.path[0])])}: ${i.message}`);
  throw new UsageError("MIGRATE_BAD_OPTIONS", `${problems.length} bad option${problems.length === 1 ? "" : "s"} for tunekit migrate: ${problems.join("; ")}`, {
    fix: "correct the flags listed (see `tunekit migrate --help`)",
    details: { problems },
  });
}

async function findPrevious(ws: Workspace, options: MigrateOptions, modelDir: string): Promise<Run | null> {
  const runs = await ws.registry.listRuns({ kind: "migration" });
  const same = runs.filter((r) => r.status !== "cancelled" && r.config.jobId === options.jobId && r.config.modelDir === modelDir && r.config.name === migrationName(options));
  return same.sort((a, b) => b.createdAt.localeCompare(a.createdAt))[0] ?? null;
}

async function finishedSteps(ws: Workspace, runId: string): Promise<Map<string, StepData>> {
  const events = await ws.registry.listRunEvents(runId, { type: "log" });
  const out = new Map<string, StepData>();
  for (const e of events) if (e.data && (e.name === "step" || e.name === "step-started")) out.set(`${e.name}:${String(e.data.step)}`, e.data);
  return out;
}

export async function runMigration(ws: Workspace, input: MigrateOptionsInput, report: MigrateReporter): Promise<MigrationResult> {
  // The job's files, once downloaded, live in a temporary folder until the migration ends, however it ends.
  const scratch: Scratch = { files: null };
  try {
    return await migrate(ws, input, report, scratch);
  } finally {
    scratch.files?.dispose();
  }
}

interface Scratch {
  files: DownloadedJobFiles | null;
}

async function migrate(ws: Workspace, input: MigrateOptionsInput, report: MigrateReporter, scratch: Scratch): Promise<MigrationResult> {
  const options = parseMigrateOptions(input);
  const name = migrationName(options);
  const access: OpenAiAccess = { baseURL: options.baseURL, apiKeyEnv: options.apiKeyEnv };
  // Everything that can be checked is checked before anything is written or spent.
  const modelDir = await assertBaseModel(options.to);
  if (options.distillFromLogs) assertGatewayLog(ws, options.distillFromLogs);
  const previous = await findPrevious(ws, options, modelDir);
  if (previous?.status === "running") {
    throw new ConflictError("MIGRATE_ALREADY_RUNNING", `migration run ${previous.id} of ${options.jobId} is running in another process`, { fix: "wait for it to finish, or stop it with `tunekit runs cancel " + previous.id + "`" });
  }
  const done = previous ? await finishedSteps(ws, previous.id) : new Map<string, StepData>();
  const job = (done.get("step:job")?.job as HostedJob | undefined) ?? (await readHostedJob(access, options.jobId));
  const hp = mapHyperparameters(job.hyperparameters);
  const routes = { old: `${name}-old`, replacement: `${name}-new` };

  if (options.dryRun) {
    // The files are read (into a temporary folder) and counted, so the plan refuses what the real run would.
    const counted = done.has("step:import") ? null : (scratch.files = await downloadJobFiles(access, job));
    if (counted) assertEnoughRecords(job, counted);
    const records = (split: "train" | "test") => {
      const f = counted?.files.find((file) => file.split === split);
      return f ? ` (${f.importable} records${f.rejected ? `, ${f.rejected} rejected lines` : ""})` : "";
    };
    report.step("job", "plan", `${job.id}: ${job.fineTunedModel} (base ${job.baseModel}), ${job.method}, n_epochs ${job.hyperparameters.nEpochs}, batch_size ${job.hyperparameters.batchSize}, lr multiplier ${job.hyperparameters.learningRateMultiplier}`);
    report.step("import", "plan", `training file ${job.trainingFile}${records("train")} → ${name}@1 (train); ${job.validationFile ? `validation file ${job.validationFile}${records("test")} → test` : "no validation file: 10% of the training file held out as test"}`);
    report.step("distill", "plan", options.distillFromLogs ? `logged answers of ${options.distillFromLogs} → train (PII redacted, deduplicated, leakage-checked against test)` : "not requested (--distill-from-logs MODEL)");
    report.step("train", "plan", `LoRA r 16 on ${modelDir}: ${hp.epochs} epochs, batch ${hp.batchSize}, lr ${hp.lr}${options.maxSteps ? `, at most ${options.maxSteps} steps` : ""}`);
    report.step("compare", "plan", `${routes.old} (${job.fineTunedModel}) vs ${routes.replacement} on the test split, ${options.metric}, non-inferiority margin ${options.margin}`);
    report.step("experiment", "plan", `gateway experiment ${name}: ${job.fineTunedModel} → ${routes.old} ${1 - options.traffic} / ${routes.replacement} ${options.traffic}`);
    const steps = (["job", "import", "distill", "train", "compare", "experiment"] as const).map((step) => ({ step, status: step === "distill" && !options.distillFromLogs ? ("not requested" as const) : done.has(`step:${step}`) ? ("skipped" as const) : ("planned" as const) }));
    return { runId: previous?.id ?? null, dryRun: true, name, job, datasetVersions: null, distill: null, trainRunId: null, model: null, evalRunId: null, verdict: null, experiment: null, cutover: null, steps, lineage: [{ kind: "openai-job", id: job.id, label: job.fineTunedModel }] };
  }

  if (previous?.status === "succeeded") {
    const recorded = previous.result as unknown as MigrationResult;
    for (const s of recorded.steps) if (s.status === "done") report.step(s.step, "skip", "finished earlier");
    return { ...recorded, steps: recorded.steps.map((s) => (s.status === "done" ? { ...s, status: "skipped" as const } : s)) };
  }
  // The files are downloaded and counted before the migration run exists: too few records is refused with
  // nothing written. A failed download is raised by the import step instead, as it always was: the run
  // records it and a re-run resumes after the job step.
  let downloadFailure: unknown = null;
  if (!done.has("step:import")) {
    scratch.files = await downloadJobFiles(access, job).catch((error: unknown) => {
      downloadFailure = error;
      return null;
    });
    if (scratch.files) assertEnoughRecords(job, scratch.files);
  }
  const config = { ...options, name, modelDir };
  // A resumed run records the flags of this invocation: the steps still to run use them.
  const run = previous ? await ws.registry.updateRun(previous.id, { config }) : await ws.registry.createRun({ kind: "migration", name, config });
  await ws.registry.transitionRun(run.id, "running", { owner: currentOwner() });
  const steps: MigrationResult["steps"] = [];
  const step = async <T extends StepData>(id: MigrationStep, describe: (d: T) => string, work: () => Promise<T>): Promise<T> => {
    const recorded = done.get(`step:${id}`) as T | undefined;
    if (recorded) {
      steps.push({ step: id, status: "skipped" });
      report.step(id, "skip", `${describe(recorded)} (finished earlier)`);
      return recorded;
    }
    const out = await work();
    await ws.registry.appendRunEvents(run.id, [{ type: "log", name: "step", data: { ...out, step: id } }]);
    steps.push({ step: id, status: "done" });
    report.step(id, "run", describe(out));
    return out;
  };
  try {
    await step("job", () => `${job.id}: ${job.fineTunedModel} (base ${job.baseModel}), n_epochs ${job.hyperparameters.nEpochs}, batch_size ${job.hyperparameters.batchSize}, lr multiplier ${job.hyperparameters.learningRateMultiplier}`, async () => ({ job }));
    const imported = await step("import", (d) => `${d.trainingRef} (${d.trainingRecords} train) → ${d.heldOutRef} (+ test)`, async () => {
      if (!scratch.files) throw downloadFailure;
      const v = await commitJobFiles(ws, job, scratch.files, name, options.seed);
      return { training: v.training.id, trainingRef: `${name}@${v.training.number}`, trainingRecords: v.training.recordCount, heldOut: v.heldOut.id, heldOutRef: `${name}@${v.heldOut.number}` };
    });
    let trainRef = String(imported.heldOutRef);
    let distill: DistillReport | null = null;
    let distilledId: string | null = null;
    if (options.distillFromLogs) {
      const d = await step("distill", (x) => `${(x.report as DistillReport).candidates} logged answers of ${options.distillFromLogs} (${(x.report as DistillReport).piiFindings} PII findings redacted, ${(x.report as DistillReport).duplicatesRemoved} duplicates, ${(x.report as DistillReport).leakedDropped} test leaks dropped) → ${x.ref}`, async () => {
        const r = await distillFromLogs(ws, await ws.registry.getDatasetVersion(String(imported.heldOut)), { model: options.distillFromLogs as string });
        return { version: r.versions.dedupe.id, ref: `${name}@${r.versions.dedupe.number}`, versions: { distill: r.versions.distill.id, leakage: r.versions.leakage.id, dedupe: r.versions.dedupe.id }, report: r.report };
      });
      trainRef = String(d.ref);
      distill = d.report as DistillReport;
      distilledId = String(d.version);
    } else {
      steps.push({ step: "distill", status: "not requested" });
      report.step("distill", "skip", "not requested (--distill-from-logs MODEL adds the gateway's logged answers)");
    }
    const trained = await step("train", (d) => `run ${d.runId} → adapter ${d.adapterDir} (model ${d.modelName})`, async () => {
      const spec = replacementSpec(job, { name: `${name}-lora`, modelDir, dataset: trainRef, device: options.device ?? ws.config.worker.device, seqLen: options.seqLen, maxSteps: options.maxSteps, hasVal: await hasValSplit(ws, trainRef) });
      report.line(`  LoRA r ${spec.lora.r} on ${modelDir}: ${spec.epochs} epochs, batch ${spec.batchSize}, lr ${spec.optimizer.lr}${spec.maxSteps ? `, at most ${spec.maxSteps} steps` : ""}`);
      let started: Promise<void> = Promise.resolve();
      let bar: ReturnType<NonNullable<MigrateReporter["progress"]>> | undefined;
      const { run: trainRun, model } = await trainReplacement(ws, spec, {
        previousRunId: done.get("step-started:train")?.runId as string | undefined,
        handleSignals: false,
        onProgress: (e) => {
          bar ??= report.progress?.({ total: e.total_steps, label: "train" });
          bar?.tick(e.step, { loss: e.loss === null ? "nan" : e.loss.toFixed(3) });
        },
        onRun: (r) => {
          started = ws.registry.appendRunEvents(run.id, [{ type: "log", name: "step-started", data: { step: "train", runId: r.id } }]);
        },
      });
      bar?.done();
      await started;
      return { runId: trainRun.id, modelName: model.name, modelId: model.id, adapterDir: model.path ?? "" };
    });
    const compared = await step("compare", (d) => `eval run ${d.evalRunId}: ${(d.verdict as NonInferiorityVerdict).text}`, async () => {
      const c = await compareOldNew(ws, {
        name: `${name}-old-vs-new`, dataset: trainRef, margin: options.margin, maxTokens: options.maxTokens, metric: options.metric, resamples: options.resamples,
        old: { name: routes.old, model: job.fineTunedModel, baseURL: options.baseURL, apiKeyEnv: options.apiKeyEnv },
        replacement: { name: routes.replacement, modelDir, adapterDir: String(trained.adapterDir) },
      });
      return { evalRunId: c.evalRunId, verdict: c.verdict };
    });
    const verdict = compared.verdict as NonInferiorityVerdict;
    const experiment = await step("experiment", (d) => `${d.name} in ${d.configPath}: ${job.fineTunedModel} → ${routes.old} / ${routes.replacement} (${Math.round(options.traffic * 1000) / 10}%), draft`, async () => {
      const w = setupExperiment(ws.root, {
        name, publicModel: job.fineTunedModel, traffic: options.traffic,
        old: { route: routes.old, baseURL: options.baseURL, model: job.fineTunedModel, apiKeyEnv: options.apiKeyEnv },
        replacement: { route: routes.replacement, modelDir, adapterDir: String(trained.adapterDir) },
      });
      return { name: w.experiment.name, routes: w.routes.map((r) => r.name), configPath: w.configPath };
    });
    const cutover = `tunekit model promote --eval ${compared.evalRunId} --candidate ${routes.replacement} --reference ${routes.old} --margin ${options.margin} --metric ${options.metric} --experiment ${name}`;
    report.line(verdict.outcome === "inferior" ? `the replacement is worse than the hosted model: the cutover (${cutover}) will refuse` : `start the A/B test: tunekit experiments start ${name}; cut over: ${cutover}`);
    const result: MigrationResult = {
      runId: run.id, dryRun: false, name, job,
      datasetVersions: { training: String(imported.training), heldOut: String(imported.heldOut), distilled: distilledId },
      distill, trainRunId: String(trained.runId), model: { name: String(trained.modelName), adapterDir: String(trained.adapterDir) },
      evalRunId: String(compared.evalRunId), verdict,
      experiment: { name: String(experiment.name), routes: experiment.routes as string[], configPath: String(experiment.configPath) },
      cutover, steps,
      lineage: [
        { kind: "openai-job", id: job.id, label: job.fineTunedModel },
        { kind: "dataset-version", id: String(imported.training), label: String(imported.trainingRef) },
        ...(String(imported.heldOutRef) === trainRef ? [{ kind: "dataset-version" as const, id: String(imported.heldOut), label: trainRef }] : [{ kind: "dataset-version" as const, id: String(imported.heldOut), label: String(imported.heldOutRef) }, { kind: "dataset-version" as const, id: distilledId as string, label: trainRef }]),
        { kind: "train-run", id: String(trained.runId), label: `${name}-lora` },
        { kind: "model", id: String(trained.modelId), label: String(trained.modelName) },
        { kind: "eval-run", id: String(compared.evalRunId), label: verdict.outcome },
        { kind: "experiment", id: String(experiment.name), label: `${routes.old} / ${routes.replacement}` },
      ],
    };
    await ws.registry.updateRun(run.id, { datasetVersionId: distilledId ?? String(imported.heldOut), modelId: String(trained.modelId) });
    await ws.registry.transitionRun(run.id, "succeeded", { result: result as unknown as Record<string, unknown> });
    return result;
  } catch (error) {
    const e = error as { code?: string; message?: string; fix?: string };
    await ws.registry.transitionRun(run.id, "failed", { error: { code: e.code ?? "MIGRATE_FAILED", message: String(e.message ?? error), ...(e.fix ? { fix: e.fix } : {}) } }).catch(() => undefined);
    throw error;
  }
}
