import { ConflictError, NotFoundError, UsageError } from "../errors/index.js";
import { nonInferiority, type EvalSummary, type NonInferiorityVerdict } from "../eval/index.js";
import { ExperimentStore, openGatewayStores, type ExperimentState } from "../gateway/index.js";
import type { Workspace } from "../registry/index.js";

/**
 * `tunekit model promote`: the one gate between an evaluation and production. It reads a finished eval
 * run's paired comparison of `candidate` against `reference` on the primary metric (or `metric`), applies the
 * non-inferiority verdict with `margin`, and refuses when the candidate is worse. Otherwise it ends the
 * gateway experiment in the candidate's favour (when one is named) and records the decision on the eval run.
 * Generic on purpose: a migrated model against the hosted one, a GGUF or vLLM copy against the trained model.
 */
export interface PromoteInput {
  evalRunId: string;
  candidate: string;
  reference: string;
  margin: number;
  metric?: string;
  /** Experiment to end in the candidate's favour; its variant is `variant` (default: the candidate's name). */
  experiment?: string;
  variant?: string;
  actor?: string;
}

export interface PromoteOutcome {
  verdict: NonInferiorityVerdict;
  experiment: ExperimentState | null;
}

/** The verdict of one finished eval run, without promoting anything. */
export async function gateVerdict(ws: Workspace, input: Pick<PromoteInput, "evalRunId" | "candidate" | "reference" | "margin" | "metric">): Promise<NonInferiorityVerdict> {
  const run = await ws.registry.getRun(input.evalRunId);
  if (run.kind !== "eval") {
    throw new UsageError("PROMOTE_NOT_AN_EVAL", `run ${run.id} is a ${run.kind} run, not an evaluation`, { fix: "pass --eval with an eval run id (`tunekit runs list --kind eval`)" });
  }
  if (run.status !== "succeeded" || !run.result) {
    throw new ConflictError("PROMOTE_EVAL_NOT_FINISHED", `eval run ${run.id} is ${run.status}; the gate needs its finished comparison`, { fix: "finish the evaluation (`tunekit eval run`), then promote" });
  }
  const summary = run.result as unknown as EvalSummary;
  const metric = input.metric ?? summary.primaryMetric;
  const names = summary.candidates.map((c) => c.name);
  for (const [flag, name] of [["--candidate", input.candidate], ["--reference", input.reference]] as const) {
    if (!names.includes(name)) {
      throw new NotFoundError("PROMOTE_UNKNOWN_CANDIDATE", `eval run ${run.id} has no candidate named ${JSON.stringify(name)} (${flag})`, { fix: `use one of: ${names.join(", ")}` });
    }
  }
  const comparison = summary.comparisons.find((c) => c.metric === metric && ((c.a === input.candidate && c.b === input.reference) || (c.a === input.reference && c.b === input.candidate)));
  if (!comparison) {
    const metrics = [...new Set(summary.comparisons.map((c) => c.metric))];
    throw new NotFoundError("PROMOTE_NO_COMPARISON", `eval run ${run.id} has no paired comparison of ${input.candidate} and ${input.reference} on ${metric}`, {
      fix: metrics.length ? `pass --metric with one of: ${metrics.join(", ")}` : "evaluate both candidates in one eval run on the same examples",
    });
  }
  return nonInferiority(comparison, { candidate: input.candidate, reference: input.reference, margin: input.margin });
}

export async function promoteCandidate(ws: Workspace, input: PromoteInput): Promise<PromoteOutcome> {
  const verdict = await gateVerdict(ws, input);
  const record = (promoted: boolean) => ws.registry.appendRunEvents(input.evalRunId, [{ type: "log", name: "promote", data: { ...verdict, experiment: input.experiment ?? null, promoted } }]);
  if (verdict.outcome === "inferior") {
    await record(false);
    throw new ConflictError("PROMOTE_REFUSED", `not promoting ${input.candidate}: ${verdict.text}`, {
      fix: `improve ${input.candidate} (more or better training data, more epochs) and evaluate again; the experiment, if any, keeps its traffic as it is`,
      details: { verdict },
    });
  }
  if (!input.experiment) {
    await record(true);
    return { verdict, experiment: null };
  }
  const stores = await openGatewayStores({ ...ws.config.gateway, logging: { ...ws.config.gateway.logging, backend: "sqlite" } }, ws.stateDir);
  try {
    const store = new ExperimentStore(stores.db, ws.config.gateway.experiments);
    const state = store.apply(input.experiment, "promote", { variant: input.variant ?? input.candidate, actor: input.actor ?? "tunekit model promote" });
    await record(true);
    return { verdict, experiment: state };
  } finally {
    await stores.close();
  }
}
