import type { CandidateOutput } from "../candidates/run-candidate.js";
import { summarizeJudge, type JudgeSummary } from "../judge/llm-judge.js";
import { confusionMatrix, type ConfusionMatrix } from "../metrics/classification.js";
import type { ExampleScore, Metric, MetricUnit } from "../metrics/metric.js";
import { bootstrapStatistic, corpusStatistic, pairedBootstrap, type BootstrapOptions, type WeightedStatistic } from "../stats/bootstrap.js";
import { summarizeCost, type CostSummary, type Pricing } from "../stats/cost.js";
import { mcnemar } from "../stats/mcnemar.js";
import { summarizeLatency, type LatencySummary } from "../stats/percentiles.js";
import { verdict, type Comparison } from "../stats/verdict.js";

/**
 * From per-example outputs and scores to the numbers a report shows: each candidate's metric values with
 * bootstrap CIs, latency, tokens and cost; and every pair of candidates compared on every metric (McNemar
 * for binary metrics, paired bootstrap otherwise) with a verdict in plain words.
 */
export interface ScoredCandidate {
  name: string;
  backend: Record<string, unknown>;
  prompt: string;
  fineTuned?: boolean;
  pricing: Pricing | null;
  outputs: CandidateOutput[];
  /** scores[metric][exampleIndex] */
  scores: Record<string, ExampleScore[]>;
}

export interface MetricValue {
  value: number | null;
  low: number | null;
  high: number | null;
  n: number;
  unit: MetricUnit;
}

export interface CandidateSummary {
  name: string;
  backend: Record<string, unknown>;
  prompt: string;
  fineTuned?: boolean;
  examples: number;
  failures: number;
  cached: number;
  /** Answers that hit maxTokens (finish reason "length"): cut off, so scored on partial text. Absent in runs recorded before it was counted. */
  truncated?: number;
  metrics: Record<string, MetricValue>;
  latency: LatencySummary | null;
  cost: CostSummary;
  judge?: JudgeSummary;
  confusion?: ConfusionMatrix;
}

export interface ComparisonResult extends Comparison {
  n: number;
  verdict: string;
  mcnemar?: { b: number; c: number };
}

export interface EvalSummary {
  primaryMetric: string;
  examples: number;
  candidates: CandidateSummary[];
  comparisons: ComparisonResult[];
  verdicts: string[];
}

function statisticFor(metric: Metric, scores: readonly ExampleScore[], indices: readonly number[]): WeightedStatistic {
  if (metric.aggregate) {
    const width = scores.find((s) => s.stats)?.stats?.length ?? 0;
    return corpusStatistic(
      indices.map((i) => scores[i].stats ?? new Array<number>(width).fill(0)),
      (sum) => (metric.aggregate as (s: number[]) => number)(sum),
    );
  }
  const values = indices.map((i) => scores[i].value as number);
  return (counts) => {
    let s = 0;
    for (let k = 0; k < values.length; k++) s += values[k] * (counts ? counts[k] : 1);
    return s / values.length;
  };
}

function usable(scores: readonly ExampleScore[], metric: Metric): number[] {
  const out: number[] = [];
  scores.forEach((s, i) => {
    if (metric.aggregate ? s.stats !== undefined : s.value !== null) out.push(i);
  });
  return out;
}

export function summarizeEval(candidates: readonly ScoredCandidate[], metrics: readonly Metric[], options: BootstrapOptions & { primaryMetric: string; monthlyVolume: number | null }): EvalSummary {
  const binary = metrics.find((m) => m.name === options.primaryMetric && m.binary) ?? metrics.find((m) => m.binary);
  const summaries: CandidateSummary[] = candidates.map((c) => {
    const values: Record<string, MetricValue> = {};
    for (const m of metrics) {
      const scores = c.scores[m.name] ?? [];
      const idx = usable(scores, m);
      if (idx.length === 0) {
        values[m.name] = { value: null, low: null, high: null, n: 0, unit: m.unit };
        continue;
      }
      const ci = bootstrapStatistic(idx.length, statisticFor(m, scores, idx), options);
      values[m.name] = { value: ci.estimate, low: ci.low, high: ci.high, n: idx.length, unit: m.unit };
    }
    const usage = c.outputs.map((o, i) => ({
      promptTokens: o.promptTokens,
      completionTokens: o.completionTokens,
      correct: binary ? (c.scores[binary.name]?.[i]?.value ?? null) === 1 : null,
    }));
    const summary: CandidateSummary = {
      name: c.name,
      backend: c.backend,
      prompt: c.prompt,
      fineTuned: c.fineTuned,
      examples: c.outputs.length,
      failures: c.outputs.filter((o) => o.error).length,
      cached: c.outputs.filter((o) => o.cached).length,
      truncated: c.outputs.filter((o) => o.truncated).length,
      metrics: values,
      // A cached answer carries the latency measured when it was generated: still this candidate's latency, so a
      // resumed or re-scored eval reports it instead of nothing (`cached` says how many came from the cache).
      latency: summarizeLatency(c.outputs.filter((o) => o.latencyMs !== null).map((o) => o.latencyMs as number)),
      cost: summarizeCost(usage, c.pricing, options.monthlyVolume),
    };
    const judgeMetric = metrics.find((m) => m.name.startsWith("judge"));
    if (judgeMetric) summary.judge = summarizeJudge(c.scores[judgeMetric.name] ?? []);
    const acc = c.scores.accuracy;
    if (acc) {
      const pairs = acc.filter((s) => s.detail?.truth !== undefined).map((s) => s.detail as { truth: string; predicted: string });
      const labels = [...new Set(pairs.map((p) => p.truth))].sort();
      summary.confusion = confusionMatrix(pairs, labels.concat([...new Set(pairs.map((p) => p.predicted))].filter((l) => !labels.includes(l) && l !== "(unmapped)").sort()));
    }
    return summary;
  });

  const comparisons: ComparisonResult[] = [];
  for (let a = 0; a < candidates.length; a++) {
    for (let b = a + 1; b < candidates.length; b++) {
      for (const m of metrics) {
        const sa = candidates[a].scores[m.name] ?? [];
        const sb = candidates[b].scores[m.name] ?? [];
        const inB = new Set(usable(sb, m));
        const both = usable(sa, m).filter((i) => inB.has(i));
        if (both.length < 2) continue;
        const paired = pairedBootstrap(both.length, statisticFor(m, sa, both), statisticFor(m, sb, both), options);
        const base = { a: candidates[a].name, b: candidates[b].name, metric: m.name, unit: m.unit, difference: paired.estimate, low: paired.low, high: paired.high, n: both.length };
        let c: ComparisonResult;
        if (m.binary) {
          const mc = mcnemar(
            both.map((i) => sa[i].value as number),
            both.map((i) => sb[i].value as number),
          );
          const cmp = { ...base, pValue: mc.pValue, test: mc.method === "exact" ? ("mcnemar-exact" as const) : ("mcnemar-chi-square" as const) };
          c = { ...cmp, verdict: verdict(cmp), mcnemar: { b: mc.b, c: mc.c } };
        } else {
          const cmp = { ...base, pValue: paired.pValue, test: "paired-bootstrap" as const };
          c = { ...cmp, verdict: verdict(cmp) };
        }
        comparisons.push(c);
      }
    }
  }
  return {
    primaryMetric: options.primaryMetric,
    examples: candidates[0]?.outputs.length ?? 0,
    candidates: summaries,
    comparisons,
    verdicts: comparisons.filter((c) => c.metric === options.primaryMetric).map((c) => c.verdict),
  };
}
