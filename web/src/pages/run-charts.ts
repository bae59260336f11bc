/** How a run's metric names group into the run page's charts: a chart per quantity, train and val together. */
export interface ChartGroup {
  id: string;
  title: string;
  logY?: boolean;
  /** Metric names drawn in this chart, in the order they were first seen. */
  ns: string[];
}

const CHARTS: { id: string; title: string; names: (n: string) => boolean; logY?: boolean }[] = [
  { id: "loss", title: "Loss (train / validation)", names: (n) => /(^|\/)loss$/.test(n) },
  { id: "lr", title: "Learning rate", names: (n) => /(^|\/)lr$/.test(n) },
  { id: "throughput", title: "Throughput (tokens/s)", names: (n) => /tokens_per_s/.test(n) },
  // Preference runs (objective dpo / orpo): the margin and accuracy are what tells the run is learning.
  { id: "reward-margin", title: "Reward margin (train / validation)", names: (n) => /(^|\/)rewards\/margin$/.test(n) },
  { id: "reward-accuracy", title: "Reward accuracy (train / validation)", names: (n) => /(^|\/)rewards\/accuracy$/.test(n) },
  { id: "rewards", title: "Rewards (chosen / rejected)", names: (n) => /(^|\/)rewards\/(chosen|rejected)$/.test(n) },
];

/** The charts with at least one metric (loss always, empty until its first event), then one chart per other metric. */
export function groupMetricCharts(names: readonly string[]): ChartGroup[] {
  const used = new Set<string>();
  const charts = CHARTS.map(({ names: match, ...c }) => {
    const ns = names.filter(match);
    ns.forEach((n) => used.add(n));
    return { ...c, ns };
  }).filter((c) => c.ns.length || c.id === "loss");
  const others = names.filter((n) => !used.has(n)).map((n) => ({ id: n.replace(/\W+/g, "-"), title: n, ns: [n] }));
  return [...charts, ...others];
}
