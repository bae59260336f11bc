import { existsSync } from "node:fs";
import type { Run, RunEvent, Workspace } from "../../registry/index.js";
import { CANCEL_EVENT, JOB_EVENT, jobIdOf } from "./jobs.js";
import { page, toUnixSeconds, type ListEnvelope } from "./pagination.js";

/** OpenAI's `fine_tuning.job.event`. */
export interface JobEventObject {
  id: string;
  object: "fine_tuning.job.event";
  created_at: number;
  level: "info" | "warn" | "error";
  message: string;
  type: "message" | "metrics";
  data: Record<string, unknown>;
}

/** OpenAI's `fine_tuning.job.checkpoint`. */
export interface JobCheckpointObject {
  id: string;
  object: "fine_tuning.job.checkpoint";
  created_at: number;
  fine_tuned_model_checkpoint: string;
  fine_tuning_job_id: string;
  step_number: number;
  metrics: { step: number; train_loss?: number; valid_loss?: number };
}

/** Steps' losses from a run's (non-superseded) events: progress carries train loss, metric val/loss the rest. */
function lossesByStep(events: readonly RunEvent[]): Map<number, { train_loss?: number; valid_loss?: number }> {
  const out = new Map<number, { train_loss?: number; valid_loss?: number }>();
  for (const e of events) {
    if (e.step === null) continue;
    const row = out.get(e.step) ?? {};
    if (e.type === "progress" && typeof e.data?.loss === "number") row.train_loss = e.data.loss;
    else if (e.type === "metric" && e.name === "val/loss" && e.value !== null) row.valid_loss = e.value;
    else continue;
    out.set(e.step, row);
  }
  return out;
}

const fmt = (x: number) => Number(x.toFixed(4));

/** A run event as the client would see it, or null for bookkeeping it has no use for. */
function toEvent(e: RunEvent, totalSteps: number | null): Omit<JobEventObject, "id" | "object" | "created_at"> | null {
  const of = totalSteps ? `/${totalSteps}` : "";
  if (e.type === "progress" && typeof e.data?.loss === "number") {
    const data = { step: e.step, train_loss: e.data.loss, total_steps: e.data.total_steps ?? totalSteps };
    return { level: "info", type: "metrics", message: `Step ${e.step}${of}: training loss=${fmt(e.data.loss)}`, data };
  }
  if (e.type === "metric" && e.name === "val/loss" && e.value !== null) {
    return { level: "info", type: "metrics", message: `Step ${e.step}${of}: validation loss=${fmt(e.value)}`, data: { step: e.step, valid_loss: e.value, total_steps: totalSteps } };
  }
  if (e.type === "checkpoint") return { level: "info", type: "message", message: `Checkpoint created at step ${e.step}`, data: { step: e.step } };
  if (e.type === "status") {
    const from = e.data?.resumedFromStep;
    const messages: Record<string, [JobEventObject["level"], string]> = {
      running: ["info", typeof from === "number" ? `Fine-tuning job resumed from the checkpoint of step ${from}` : "Fine-tuning job started"],
      succeeded: ["info", "The job has successfully completed"],
      failed: ["error", "The job failed"],
      cancelled: ["info", "The job was cancelled"],
      interrupted: ["warn", "The job was interrupted; it resumes from its newest checkpoint when the gateway runs again"],
    };
    const m = e.name ? messages[e.name] : undefined;
    return m ? { level: m[0], type: "message", message: m[1], data: {} } : null;
  }
  if (e.type === "log") {
    const message = typeof e.data?.message === "string" ? e.data.message : null;
    if (e.name === JOB_EVENT) return { level: "info", type: "message", message: message ?? "Created fine-tuning job", data: {} };
    if (e.name === CANCEL_EVENT) return { level: "info", type: "message", message: "Cancellation requested", data: {} };
    if (!message || !["info", "warning", "error"].includes(e.name ?? "")) return null;
    return { level: e.name === "warning" ? "warn" : (e.name as "info" | "error"), type: "message", message, data: {} };
  }
  return null;
}

/** Events and checkpoints of a job, mapped from its run's events; lists are newest first, as OpenAI's are. */
export class JobEvents {
  constructor(private readonly ws: Workspace) {}

  async events(run: Run, query: URLSearchParams): Promise<ListEnvelope<JobEventObject>> {
    const events = await this.ws.registry.listRunEvents(run.id);
    const total = [...events].reverse().find((e) => e.type === "progress" && typeof e.data?.total_steps === "number")?.data?.total_steps as number | undefined;
    const out: JobEventObject[] = [];
    for (const e of events) {
      const mapped = toEvent(e, total ?? null);
      if (mapped) out.push({ id: `ftevent-${e.id}`, object: "fine_tuning.job.event", created_at: toUnixSeconds(e.ts), ...mapped });
    }
    if (run.status === "failed" && run.error) out.push({ id: `ftevent-${run.id}-error`, object: "fine_tuning.job.event", created_at: toUnixSeconds(run.updatedAt), level: "error", type: "message", message: `${run.error.code}: ${run.error.message}`, data: {} });
    return page(out.reverse(), query);
  }

  /** Checkpoints whose folder still exists (keepLast prunes older ones), newest first. */
  async checkpoints(run: Run, query: URLSearchParams): Promise<ListEnvelope<JobCheckpointObject>> {
    const events = await this.ws.registry.listRunEvents(run.id);
    const losses = lossesByStep(events);
    const out: JobCheckpointObject[] = [];
    for (const e of events) {
      if (e.type !== "checkpoint" || e.step === null || typeof e.data?.path !== "string" || !existsSync(e.data.path)) continue;
      out.push({
        id: `ftckpt-${e.id}`,
        object: "fine_tuning.job.checkpoint",
        created_at: toUnixSeconds(e.ts),
        fine_tuned_model_checkpoint: `${run.name}:ckpt-step-${e.step}`,
        fine_tuning_job_id: jobIdOf(run.id),
        step_number: e.step,
        metrics: { step: e.step, ...losses.get(e.step) },
      });
    }
    return page(out.reverse(), query);
  }

  /** The `step_metrics.csv` result file: OpenAI's columns; those tunekit does not measure stay empty. */
  async resultCsv(runId: string): Promise<string> {
    const losses = lossesByStep(await this.ws.registry.listRunEvents(runId));
    const lines = ["step,train_loss,train_accuracy,valid_loss,valid_mean_token_accuracy,train_mean_token_accuracy,full_valid_loss,full_valid_mean_token_accuracy"];
    for (const [step, l] of [...losses].sort((a, b) => a[0] - b[0])) lines.push(`${step},${l.train_loss ?? ""},,${l.valid_loss ?? ""},,,,`);
    return lines.join("\n") + "\n";
  }
}
