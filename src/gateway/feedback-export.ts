import type { DatasetVersion, Workspace } from "../registry/index.js";
import { commitVersion, type ChatRecord, type Message } from "../data/index.js";
import type { FeedbackRecord, LogStore, RequestRecord } from "./records.js";
import { DataError } from "../errors/index.js";

export const DEFAULT_FAILURE_LABELS = ["bad", "wrong", "incorrect", "failure", "fail", "negative", "thumbs_down", "unhelpful"];

export interface ExportFailuresOptions {
  dataset: string;
  since?: number;
  /** A score below this is a failure (0.5 suits thumbs 0/1 and -1/1; pass 3 for 1–5 stars). */
  scoreBelow?: number;
  failureLabels?: readonly string[];
  now?: number;
}

export interface ExportFailuresResult {
  version: DatasetVersion;
  corrected: number;
  needsReview: number;
  skippedNoContent: number;
}

/** The latest feedback per request, merged: the newest non-null value of each field wins. */
export function mergeFeedback(feedback: readonly FeedbackRecord[]): Map<string, FeedbackRecord> {
  const out = new Map<string, FeedbackRecord>();
  for (const f of feedback) {
    const prev = out.get(f.requestId);
    out.set(f.requestId, prev ? { ...f, score: f.score ?? prev.score, label: f.label ?? prev.label, correction: f.correction ?? prev.correction, comment: f.comment ?? prev.comment } : f);
  }
  return out;
}

export function isFailure(f: FeedbackRecord, options: Pick<ExportFailuresOptions, "scoreBelow" | "failureLabels">): boolean {
  if (f.correction) return true;
  if (f.score !== null && f.score < (options.scoreBelow ?? 0.5)) return true;
  return f.label !== null && (options.failureLabels ?? DEFAULT_FAILURE_LABELS).includes(f.label.toLowerCase());
}

/**
 * A logged interaction with bad feedback → a chat record. A correction becomes the assistant target; without
 * one the model's reply is kept with weight 0 (never trained on) and metadata.needs_review, so a person can
 * write the right answer before the next run.
 */
export function failureRecord(request: RequestRecord, f: FeedbackRecord): ChatRecord | null {
  if (request.input === null) return null;
  const messages = JSON.parse(request.input) as Message[];
  const corrected = Boolean(f.correction);
  const reply: Message = corrected ? { role: "assistant", content: f.correction! } : { role: "assistant", content: request.output ?? "", weight: 0 };
  return {
    messages: [...messages.map((m) => ({ role: m.role, content: m.content ?? null, ...(m.name ? { name: m.name } : {}) })), reply],
    metadata: {
      source: "gateway-feedback",
      request_id: request.id,
      variant: request.variant,
      model: request.model,
      score: f.score,
      label: f.label,
      comment: f.comment,
      corrected,
      needs_review: !corrected,
      original_output: corrected ? request.output : undefined,
    },
  };
}

/** `tunekit feedback export --failures`: bad or corrected interactions → a new version of `dataset`. */
export async function exportFailures(ws: Pick<Workspace, "registry" | "artifacts">, store: LogStore, options: ExportFailuresOptions): Promise<ExportFailuresResult> {
  const merged = mergeFeedback(await store.listFeedback({ since: options.since }));
  let corrected = 0;
  let needsReview = 0;
  let skippedNoContent = 0;
  const records: ChatRecord[] = [];
  for (const f of merged.values()) {
    if (!isFailure(f, options)) continue;
    const request = await store.getRequest(f.requestId);
    const record = request ? failureRecord(request, f) : null;
    if (!record) {
      skippedNoContent += 1;
      continue;
    }
    if (record.metadata!.corrected) corrected += 1;
    else needsReview += 1;
    records.push(record);
  }
  if (records.length === 0) {
    throw new DataError("GATEWAY_NO_FAILURES", `no failed or corrected interactions${options.since ? ` since ${new Date(options.since).toISOString()}` : ""} to export`, {
      fix: "widen --since, or check that clients send POST /v1/feedback with a low score, a failure label or a correction",
      details: { feedback: merged.size, skippedNoContent },
    });
  }
  const parent = (await ws.registry.findDataset(options.dataset)) ? await ws.registry.resolveDatasetVersion(options.dataset) : undefined;
  const version = await commitVersion(ws, {
    dataset: options.dataset,
    description: "failures and corrections collected by the gateway",
    parent,
    transform: "gateway-feedback-export",
    params: { since: options.since ?? null, scoreBelow: options.scoreBelow ?? 0.5, failureLabels: options.failureLabels ?? DEFAULT_FAILURE_LABELS },
    records: (async function* () {
      yield* records;
    })(),
    report: { corrected, needsReview, skippedNoContent },
  });
  return { version, corrected, needsReview, skippedNoContent };
}
