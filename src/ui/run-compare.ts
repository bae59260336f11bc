import type { Run, Workspace } from "../registry/index.js";

/** Two runs side by side: config differences (flattened keys) and each metric's last and best values. */
export interface MetricSummary {
  last: number | null;
  min: number | null;
  max: number | null;
  points: number;
}

export interface RunComparison {
  runs: [Run, Run];
  config: { key: string; a: unknown; b: unknown; same: boolean }[];
  metrics: { name: string; a: MetricSummary | null; b: MetricSummary | null }[];
}

export function flatten(value: unknown, prefix = "", out: Record<string, unknown> = {}): Record<string, unknown> {
  if (value && typeof value === "object" && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) flatten(v, prefix ? `${prefix}.${k}` : k, out);
  } else if (prefix) out[prefix] = value;
  return out;
}

async function metricSummaries(ws: Workspace, id: string): Promise<Map<string, MetricSummary>> {
  const out = new Map<string, MetricSummary>();
  for (const e of await ws.registry.listRunEvents(id, { type: "metric" })) {
    if (e.name === null || e.value === null) continue;
    const s = out.get(e.name) ?? { last: null, min: null, max: null, points: 0 };
    s.last = e.value;
    s.min = s.min === null ? e.value : Math.min(s.min, e.value);
    s.max = s.max === null ? e.value : Math.max(s.max, e.value);
    s.points++;
    out.set(e.name, s);
  }
  return out;
}

export async function compareRuns(ws: Workspace, a: string, b: string): Promise<RunComparison> {
  const [runA, runB] = [await ws.registry.getRun(a), await ws.registry.getRun(b)];
  const [fa, fb] = [flatten(runA.config), flatten(runB.config)];
  const keys = [...new Set([...Object.keys(fa), ...Object.keys(fb)])].sort();
  const config = keys.map((key) => ({ key, a: fa[key] ?? null, b: fb[key] ?? null, same: JSON.stringify(fa[key]) === JSON.stringify(fb[key]) }));
  const [ma, mb] = [await metricSummaries(ws, a), await metricSummaries(ws, b)];
  const names = [...new Set([...ma.keys(), ...mb.keys()])].sort();
  return { runs: [runA, runB], config, metrics: names.map((name) => ({ name, a: ma.get(name) ?? null, b: mb.get(name) ?? null })) };
}
