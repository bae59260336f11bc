/**
 * Parses a provider's per-step metrics CSV (OpenAI result file; Bedrock step_wise_training_metrics.csv and
 * validation_metrics.csv) into run metrics. Empty cells are skipped (validation columns are empty on most
 * steps); non-numeric columns are ignored. Column names map to tunekit metric names where they have one.
 */
import type { JobMetric } from "./types.js";

const NAMES: Record<string, string> = {
  train_loss: "train/loss",
  training_loss: "train/loss",
  train_accuracy: "train/accuracy",
  train_mean_token_accuracy: "train/mean_token_accuracy",
  valid_loss: "val/loss",
  validation_loss: "val/loss",
  valid_mean_token_accuracy: "val/mean_token_accuracy",
  full_valid_loss: "val/full_loss",
  full_valid_mean_token_accuracy: "val/full_mean_token_accuracy",
  perplexity: "train/perplexity",
  validation_perplexity: "val/perplexity",
};

const STEP_COLUMNS = ["step", "step_number"];
const EPOCH_COLUMNS = ["epoch", "epoch_number"];

export function parseMetricsCsv(text: string): JobMetric[] {
  const lines = text.replace(/^\uFEFF/, "").split(/\r?\n/).filter((l) => l.trim() !== "");
  if (lines.length === 0) return [];
  const header = lines[0].split(",").map((h) => h.trim());
  const stepAt = header.findIndex((h) => STEP_COLUMNS.includes(h));
  if (stepAt < 0) return [];
  const epochAt = header.findIndex((h) => EPOCH_COLUMNS.includes(h));
  const out: JobMetric[] = [];
  for (const line of lines.slice(1)) {
    const cells = line.split(",");
    const step = Number(cells[stepAt]);
    if (!Number.isFinite(step)) continue;
    const epoch = epochAt >= 0 && cells[epochAt]?.trim() !== "" ? Number(cells[epochAt]) : undefined;
    header.forEach((column, i) => {
      if (i === stepAt || i === epochAt) return;
      const cell = cells[i]?.trim();
      if (cell === undefined || cell === "") return;
      const value = Number(cell);
      if (!Number.isFinite(value)) return;
      out.push({ step, name: NAMES[column] ?? column, value, ...(epoch !== undefined && Number.isFinite(epoch) ? { epoch } : {}) });
    });
  }
  return out;
}

/** OpenAI serves result files base64-encoded; accept either form. */
export function decodeMaybeBase64(text: string): string {
  const trimmed = text.trim();
  if (trimmed.includes(",") || !/^[A-Za-z0-9+/=\s]+$/.test(trimmed)) return text;
  const decoded = Buffer.from(trimmed, "base64").toString("utf8");
  return decoded.includes(",") ? decoded : text;
}
