import type { RequestRecord } from "./records.js";

/** Latency histogram bucket bounds (seconds). */
export const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

interface Histogram {
  counts: number[];
  sum: number;
  count: number;
}

/**
 * In-process counters for /metrics (Prometheus text exposition format 0.0.4). Updating is a few map lookups per
 * request; rendering happens only when scraped.
 */
export class GatewayMetrics {
  private readonly requests = new Map<string, number>();
  private readonly errors = new Map<string, number>();
  private readonly tokens = new Map<string, number>();
  private readonly cost = new Map<string, number>();
  private readonly latency = new Map<string, Histogram>();
  private readonly feedback = new Map<string, { sum: number; count: number }>();
  private inFlight = 0;

  begin(): void {
    this.inFlight += 1;
  }

  observe(r: RequestRecord): void {
    this.inFlight -= 1;
    const variant = r.variant ?? "";
    inc(this.requests, labels({ model: r.model, variant, status: String(r.status) }));
    if (r.status >= 400) inc(this.errors, labels({ variant, code: r.errorCode ?? "UNKNOWN" }));
    if (r.promptTokens) inc(this.tokens, labels({ variant, type: "prompt" }), r.promptTokens);
    if (r.completionTokens) inc(this.tokens, labels({ variant, type: "completion" }), r.completionTokens);
    if (r.costUsd) inc(this.cost, labels({ variant }), r.costUsd);
    const key = labels({ variant });
    let h = this.latency.get(key);
    if (!h) {
      h = { counts: LATENCY_BUCKETS.map(() => 0), sum: 0, count: 0 };
      this.latency.set(key, h);
    }
    const seconds = r.latencyMs / 1000;
    for (let i = 0; i < LATENCY_BUCKETS.length; i++) if (seconds <= LATENCY_BUCKETS[i]) h.counts[i] += 1;
    h.sum += seconds;
    h.count += 1;
  }

  observeFeedback(variant: string | null, score: number | null): void {
    if (score === null) return;
    const key = labels({ variant: variant ?? "" });
    const f = this.feedback.get(key) ?? { sum: 0, count: 0 };
    f.sum += score;
    f.count += 1;
    this.feedback.set(key, f);
  }

  render(extra: { logQueued?: number; logWritten?: number } = {}): string {
    const out: string[] = [];
    const family = (name: string, type: string, help: string, series: Map<string, number>) => {
      out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
      for (const [l, v] of series) out.push(`${name}${l} ${v}`);
    };
    family("tunekit_gateway_requests_total", "counter", "Requests by model, variant and HTTP status.", this.requests);
    family("tunekit_gateway_errors_total", "counter", "Failed requests by variant and error code.", this.errors);
    family("tunekit_gateway_tokens_total", "counter", "Prompt and completion tokens by variant.", this.tokens);
    family("tunekit_gateway_cost_usd_total", "counter", "Inference cost in USD by variant.", this.cost);
    out.push("# HELP tunekit_gateway_request_duration_seconds Request latency as seen by the client, by variant.");
    out.push("# TYPE tunekit_gateway_request_duration_seconds histogram");
    for (const [l, h] of this.latency) {
      const inner = l.slice(1, -1);
      LATENCY_BUCKETS.forEach((b, i) => out.push(`tunekit_gateway_request_duration_seconds_bucket{${inner},le="${b}"} ${h.counts[i]}`));
      out.push(`tunekit_gateway_request_duration_seconds_bucket{${inner},le="+Inf"} ${h.count}`);
      out.push(`tunekit_gateway_request_duration_seconds_sum${l} ${round(h.sum)}`);
      out.push(`tunekit_gateway_request_duration_seconds_count${l} ${h.count}`);
    }
    const scoreSum = new Map([...this.feedback].map(([k, f]) => [k, round(f.sum)]));
    const scoreCount = new Map([...this.feedback].map(([k, f]) => [k, f.count]));
    family("tunekit_gateway_feedback_score_sum", "counter", "Sum of feedback scores by variant.", scoreSum);
    family("tunekit_gateway_feedback_count", "counter", "Feedback with a score, by variant.", scoreCount);
    family("tunekit_gateway_in_flight_requests", "gauge", "Requests being served now.", new Map([["", this.inFlight]]));
    if (extra.logQueued !== undefined) family("tunekit_gateway_log_records_queued_total", "counter", "Records acknowledged into the log queue.", new Map([["", extra.logQueued]]));
    if (extra.logWritten !== undefined) family("tunekit_gateway_log_records_written_total", "counter", "Records written to the log database.", new Map([["", extra.logWritten]]));
    return `${out.join("\n")}\n`;
  }
}

function inc(map: Map<string, number>, key: string, by = 1): void {
  map.set(key, (map.get(key) ?? 0) + by);
}

function round(v: number): number {
  return Math.round(v * 1e9) / 1e9;
}

/** `{a="x",b="y"}` with label values escaped per the exposition format. */
export function labels(values: Record<string, string>): string {
  const parts = Object.entries(values).map(([k, v]) => `${k}="${v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`);
  return `{${parts.join(",")}}`;
}
