import { percentile } from "../eval/index.js";
import type { GatewayAlertRule } from "../config/index.js";
import type { Logger } from "../log/index.js";
import { mergeFeedback } from "./feedback-export.js";
import type { FeedbackRecord, RequestRecord } from "./records.js";

export interface VariantWindow {
  variant: string;
  start: number;
  n: number;
  errorRate: number;
  latencyP50: number | null;
  latencyP95: number | null;
  latencyP99: number | null;
  costUsd: number;
  promptTokens: number;
  completionTokens: number;
  feedbackScore: number | null;
  feedbackCount: number;
}

/** Per-variant figures in time buckets of `bucketMs` (one bucket when omitted). */
export function summarize(requests: readonly RequestRecord[], feedback: readonly FeedbackRecord[], options: { bucketMs?: number } = {}): VariantWindow[] {
  const fb = mergeFeedback(feedback);
  const groups = new Map<string, RequestRecord[]>();
  const first = requests.length ? requests[0].ts : 0;
  for (const r of requests) {
    const start = options.bucketMs ? first + Math.floor((r.ts - first) / options.bucketMs) * options.bucketMs : first;
    const key = `${r.variant ?? ""}\0${start}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  const out: VariantWindow[] = [];
  for (const [key, rs] of groups) {
    const [variant, start] = key.split("\0");
    const lat = rs.map((r) => r.latencyMs).sort((a, b) => a - b);
    const scores = rs.map((r) => fb.get(r.id)?.score).filter((s): s is number => typeof s === "number");
    out.push({
      variant,
      start: Number(start),
      n: rs.length,
      errorRate: rs.filter((r) => r.status >= 400).length / rs.length,
      latencyP50: percentile(lat, 50),
      latencyP95: percentile(lat, 95),
      latencyP99: percentile(lat, 99),
      costUsd: rs.reduce((s, r) => s + (r.costUsd ?? 0), 0),
      promptTokens: rs.reduce((s, r) => s + (r.promptTokens ?? 0), 0),
      completionTokens: rs.reduce((s, r) => s + (r.completionTokens ?? 0), 0),
      feedbackScore: scores.length ? scores.reduce((a, b) => a + b, 0) / scores.length : null,
      feedbackCount: scores.length,
    });
  }
  return out.sort((a, b) => a.start - b.start || a.variant.localeCompare(b.variant));
}

export interface Alert {
  metric: GatewayAlertRule["metric"];
  variant: string | null;
  value: number;
  threshold: number;
  op: ">" | "<";
  message: string;
}

const METRIC_OF: Record<Exclude<GatewayAlertRule["metric"], "drift_psi">, (w: VariantWindow) => number | null> = {
  error_rate: (w) => w.errorRate,
  latency_p50_ms: (w) => w.latencyP50,
  latency_p95_ms: (w) => w.latencyP95,
  latency_p99_ms: (w) => w.latencyP99,
  cost_usd: (w) => w.costUsd,
  feedback_score: (w) => w.feedbackScore,
};

/** The rules crossed by the last `windowMinutes` of traffic (per variant), and by drift when measured. */
export function evaluateAlerts(rules: readonly GatewayAlertRule[], requests: readonly RequestRecord[], feedback: readonly FeedbackRecord[], now: number, driftPsi?: number): Alert[] {
  const alerts: Alert[] = [];
  for (const rule of rules) {
    const crossed = (v: number) => (rule.op === ">" ? v > rule.threshold : v < rule.threshold);
    if (rule.metric === "drift_psi") {
      if (driftPsi !== undefined && crossed(driftPsi)) alerts.push(make(rule, null, driftPsi));
      continue;
    }
    const recent = requests.filter((r) => r.ts >= now - rule.windowMinutes * 60_000 && (!rule.variant || r.variant === rule.variant));
    for (const w of summarize(recent, feedback)) {
      if (w.n < rule.minRequests) continue;
      const v = METRIC_OF[rule.metric](w);
      if (v !== null && crossed(v)) alerts.push(make(rule, w.variant, v));
    }
  }
  return alerts;
}

function make(rule: GatewayAlertRule, variant: string | null, value: number): Alert {
  return {
    metric: rule.metric, variant, value, threshold: rule.threshold, op: rule.op,
    message: `${rule.metric}${variant ? ` of ${variant}` : ""} is ${round(value)} (${rule.op} ${rule.threshold}) over the last ${rule.windowMinutes} min`,
  };
}

function round(v: number): number {
  return Math.round(v * 1000) / 1000;
}

/** Each alert becomes a warn log line and, with a webhook, one JSON POST (failures are logged, not thrown). */
export async function sendAlerts(alerts: readonly Alert[], options: { logger?: Logger; webhookUrl?: string; fetchImpl?: typeof fetch }): Promise<void> {
  for (const a of alerts) {
    options.logger?.warn({ alert: a }, `alert: ${a.message}`);
    if (!options.webhookUrl) continue;
    try {
      const res = await (options.fetchImpl ?? fetch)(options.webhookUrl, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ source: "tunekit-gateway", ...a, ts: new Date().toISOString() }), signal: AbortSignal.timeout(5000) });
      if (!res.ok) options.logger?.error({ status: res.status }, "alert webhook refused the alert");
    } catch (error) {
      options.logger?.error({ err: (error as Error).message }, "alert webhook unreachable");
    }
  }
}
