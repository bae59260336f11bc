import { createAssertionMetric } from "../metrics/assertions.js";
import { bleuMetric } from "../metrics/bleu.js";
import { chrfMetricDefault, chrfPlusPlusMetric } from "../metrics/chrf.js";
import { createClassificationMetrics, type LabelMatchMode } from "../metrics/classification.js";
import { loadCustomMetric } from "../metrics/custom-function.js";
import { createJsonSchemaMetric, createJsonValidMetric } from "../metrics/json-metrics.js";
import { exactMatchMetric, normalizedMatchMetric, tokenF1Metric } from "../metrics/match.js";
import type { EvalExample, Metric } from "../metrics/metric.js";
import { rougeLMetric } from "../metrics/rouge-l.js";
import type { MetricSpec } from "./suite-config.js";

/** The distinct references, sorted: the label set when the suite gives none. */
export function inferLabels(...sets: readonly (readonly EvalExample[])[]): string[] {
  const labels = new Set<string>();
  for (const set of sets) for (const e of set) if (e.reference !== null && e.reference.trim()) labels.add(e.reference.trim());
  return [...labels].sort();
}

export async function buildMetrics(specs: readonly MetricSpec[], options: { labels: readonly string[]; match: LabelMatchMode; baseDir: string }): Promise<Metric[]> {
  const classification = createClassificationMetrics(options.labels, options.match);
  const out: Metric[] = [];
  for (const spec of specs) {
    if (typeof spec === "string") {
      const builtin: Record<string, () => Metric> = {
        exact_match: () => exactMatchMetric,
        normalized_match: () => normalizedMatchMetric,
        token_f1: () => tokenF1Metric,
        rouge_l: () => rougeLMetric,
        bleu: () => bleuMetric,
        chrf: () => chrfMetricDefault,
        "chrf++": () => chrfPlusPlusMetric,
        accuracy: () => classification.accuracy,
        macro_f1: () => classification.macroF1,
        json_valid: () => createJsonValidMetric(),
      };
      out.push(builtin[spec]());
    } else if (spec.type === "json_schema") out.push(createJsonSchemaMetric(spec.schema, { extract: spec.extract, name: spec.name }));
    else if (spec.type === "custom") out.push(await loadCustomMetric(spec.module, { baseDir: options.baseDir, name: spec.name }));
    else out.push(createAssertionMetric(spec));
  }
  return out;
}
