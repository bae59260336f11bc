import { useEffect, useRef } from "react";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";

export interface Series {
  label: string;
  /** x values (steps, times) and y values, same length. */
  x: number[];
  y: (number | null)[];
  color?: string;
}

/** Tick labels that stay readable for learning rates (2e-4) as well as token counts. */
export function formatTick(v: number | null): string {
  if (v === null || v === undefined) return "";
  const a = Math.abs(v);
  if (a !== 0 && (a < 0.01 || a >= 1e6)) return v.toExponential(1);
  return String(+v.toPrecision(4));
}

const COLORS = ["#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2"];

/** Aligns series with different x values onto one sorted x axis (uPlot's data shape). */
export function alignSeries(series: readonly Series[]): uPlot.AlignedData {
  const xs = [...new Set(series.flatMap((s) => s.x))].sort((a, b) => a - b);
  const index = new Map(xs.map((x, i) => [x, i]));
  const columns = series.map((s) => {
    const col: (number | null)[] = new Array(xs.length).fill(null);
    s.x.forEach((x, i) => (col[index.get(x)!] = s.y[i]));
    return col;
  });
  return [xs, ...columns] as uPlot.AlignedData;
}

/**
 * A uPlot line chart that redraws in place when its data grows (live runs): the plot is created once per
 * series layout and updated with setData afterwards. `data-points` carries the point count for tests.
 */
export function LineChart(props: { id: string; title: string; series: Series[]; xLabel?: string; time?: boolean; height?: number; logY?: boolean }) {
  const host = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const layout = props.series.map((s) => s.label).join("|");
  const data = alignSeries(props.series);
  const points = props.series.reduce((n, s) => n + s.x.length, 0);

  useEffect(() => {
    if (!host.current) return;
    const opts: uPlot.Options = {
      width: Math.max(280, host.current.clientWidth || 480),
      height: props.height ?? 220,
      scales: { x: { time: props.time ?? false }, y: props.logY ? { distr: 3 } : {} },
      axes: [{ label: props.xLabel, size: 40 }, { size: 60, values: (_u, splits) => splits.map(formatTick) }],
      legend: { show: true, live: false },
      cursor: { drag: { x: true, y: false } },
      series: [{ label: props.xLabel ?? "x" }, ...props.series.map((s, i) => ({ label: s.label, stroke: s.color ?? COLORS[i % COLORS.length], width: 1.6, spanGaps: true, points: { show: s.x.length < 40 } }))],
    };
    plot.current = new uPlot(opts, data, host.current);
    const resize = new ResizeObserver(() => plot.current?.setSize({ width: Math.max(280, host.current?.clientWidth ?? 480), height: props.height ?? 220 }));
    resize.observe(host.current);
    return () => {
      resize.disconnect();
      plot.current?.destroy();
      plot.current = null;
    };
    // The plot is rebuilt only when the set of series changes; data updates go through setData below.
  }, [layout, props.time, props.logY]);

  useEffect(() => {
    plot.current?.setData(data);
  });

  return (
    <figure className="chart" data-testid={`chart-${props.id}`} data-points={points}>
      <figcaption>{props.title}</figcaption>
      {points === 0 ? <p className="muted">no data yet</p> : null}
      <div ref={host} className="chart-host" />
    </figure>
  );
}
