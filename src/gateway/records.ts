import type { Insertable } from "kysely";
import type { RequestsTable } from "./store-schema.js";

/** What the gateway stores: one row per request, one per feedback. Times are ms since the epoch. */
export interface RequestRecord {
  id: string;
  ts: number;
  model: string;
  variant: string | null;
  experiment: string | null;
  backend: string | null;
  status: number;
  errorCode: string | null;
  stream: boolean;
  latencyMs: number;
  /** Time to the first byte from the backend (streaming: the first chunk). */
  ttftMs: number | null;
  attempts: number;
  promptTokens: number | null;
  completionTokens: number | null;
  costUsd: number | null;
  keyId: string | null;
  userKey: string | null;
  /** The request's messages as JSON (null when content storage is off). */
  input: string | null;
  /** The assistant's reply text. */
  output: string | null;
  finishReason: string | null;
}

export interface FeedbackInput {
  requestId: string;
  score?: number | null;
  label?: string | null;
  correction?: string | null;
  comment?: string | null;
}

export interface FeedbackRecord {
  id: number;
  requestId: string;
  ts: number;
  score: number | null;
  label: string | null;
  correction: string | null;
  comment: string | null;
}

export interface ListRequestsFilter {
  since?: number;
  until?: number;
  variant?: string;
  experiment?: string;
  limit?: number;
}

/** The filter of listRequests without its limit: iterateRequests reads every matching row, a page at a time. */
export interface IterateRequestsFilter extends Omit<ListRequestsFilter, "limit"> {
  /** Rows per query (default 500). */
  pageSize?: number;
}

/** Where request logs and feedback live: SQLite (.tunekit/gateway.db) or PostgreSQL. */
export interface LogStore {
  readonly kind: "sqlite" | "postgres";
  /** Idempotent by request id: replaying a write-ahead segment twice stores each record once. */
  insertRequests(records: readonly RequestRecord[]): Promise<void>;
  insertFeedback(input: FeedbackInput, ts: number): Promise<FeedbackRecord>;
  getRequest(id: string): Promise<RequestRecord | null>;
  /** Every matching row at once, in (ts, id) order. */
  listRequests(filter?: ListRequestsFilter): Promise<RequestRecord[]>;
  /** Every matching row in (ts, id) order, read a page at a time: for whole-log passes such as distillation. */
  iterateRequests(filter?: IterateRequestsFilter): AsyncIterable<RequestRecord>;
  countRequests(): Promise<number>;
  listFeedback(filter?: { since?: number }): Promise<FeedbackRecord[]>;
  /** Deletes requests (and their feedback) older than `olderThan` and beyond the newest `maxRecords`. */
  applyRetention(options: { olderThan?: number; maxRecords?: number }): Promise<number>;
  close(): Promise<void>;
}

export function recordToRow(r: RequestRecord): Insertable<RequestsTable> {
  return {
    id: r.id, ts: r.ts, model: r.model, variant: r.variant, experiment: r.experiment, backend: r.backend, status: r.status, error_code: r.errorCode,
    stream: r.stream ? 1 : 0, latency_ms: r.latencyMs, ttft_ms: r.ttftMs, attempts: r.attempts, prompt_tokens: r.promptTokens,
    completion_tokens: r.completionTokens, cost_usd: r.costUsd, key_id: r.keyId, user_key: r.userKey, input: r.input, output: r.output,
    finish_reason: r.finishReason,
  };
}

export function rowToRecord(row: Record<string, unknown>): RequestRecord {
  const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));
  return {
    id: String(row.id),
    ts: Number(row.ts),
    model: String(row.model),
    variant: (row.variant as string | null) ?? null,
    experiment: (row.experiment as string | null) ?? null,
    backend: (row.backend as string | null) ?? null,
    status: Number(row.status),
    errorCode: (row.error_code as string | null) ?? null,
    stream: Number(row.stream) === 1,
    latencyMs: Number(row.latency_ms),
    ttftMs: num(row.ttft_ms),
    attempts: Number(row.attempts),
    promptTokens: num(row.prompt_tokens),
    completionTokens: num(row.completion_tokens),
    costUsd: num(row.cost_usd),
    keyId: (row.key_id as string | null) ?? null,
    userKey: (row.user_key as string | null) ?? null,
    input: (row.input as string | null) ?? null,
    output: (row.output as string | null) ?? null,
    finishReason: (row.finish_reason as string | null) ?? null,
  };
}

export function rowToFeedback(row: Record<string, unknown>): FeedbackRecord {
  return {
    id: Number(row.id),
    requestId: String(row.request_id),
    ts: Number(row.ts),
    score: row.score === null || row.score === undefined ? null : Number(row.score),
    label: (row.label as string | null) ?? null,
    correction: (row.correction as string | null) ?? null,
    comment: (row.comment as string | null) ?? null,
  };
}
