/** Small SVG charts that need no axes library: horizontal bars with confidence intervals, and histograms. */
export interface CiBar {
  label: string;
  value: number | null;
  low?: number | null;
  high?: number | null;
}

const COLORS = ["#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2"];

export function CiBars(props: { title: string; bars: CiBar[]; max?: number; format?: (v: number) => string; testId?: string }) {
  const fmt = props.format ?? ((v: number) => v.toFixed(3));
  const max = props.max ?? Math.max(1e-9, ...props.bars.map((b) => b.high ?? b.value ?? 0));
  const w = 520;
  const labelW = 150;
  const row = 26;
  const scale = (v: number) => labelW + ((w - labelW - 70) * Math.max(0, v)) / max;
  return (
    <figure className="chart" data-testid={props.testId}>
      <figcaption>{props.title}</figcaption>
      <svg viewBox={`0 0 ${w} ${props.bars.length * row + 8}`} width="100%" role="img" aria-label={props.title}>
        {props.bars.map((b, i) => {
          const y = i * row + 4;
          return (
            <g key={b.label}>
              <text x={labelW - 8} y={y + 15} textAnchor="end" fontSize="12">{b.label}</text>
              {b.value !== null ? <rect x={labelW} y={y + 3} width={scale(b.value) - labelW} height={row - 10} fill={COLORS[i % COLORS.length]} opacity={0.75} rx={2} /> : null}
              {b.low != null && b.high != null ? (
                <g stroke="#111" strokeWidth={1.4}>
                  <line x1={scale(b.low)} x2={scale(b.high)} y1={y + row / 2 - 1} y2={y + row / 2 - 1} />
                  <line x1={scale(b.low)} x2={scale(b.low)} y1={y + 6} y2={y + row - 8} />
                  <line x1={scale(b.high)} x2={scale(b.high)} y1={y + 6} y2={y + row - 8} />
                </g>
              ) : null}
              <text x={scale(b.high ?? b.value ?? 0) + 6} y={y + 15} fontSize="11" fill="#374151">{b.value === null ? "n/a" : fmt(b.value)}</text>
            </g>
          );
        })}
      </svg>
    </figure>
  );
}

export function Histogram(props: { title: string; bins: { from: number; to: number; count: number }[]; xLabel: string; testId?: string }) {
  const w = 520;
  const h = 160;
  const max = Math.max(1, ...props.bins.map((b) => b.count));
  const bw = (w - 40) / Math.max(1, props.bins.length);
  return (
    <figure className="chart" data-testid={props.testId}>
      <figcaption>{props.title}</figcaption>
      <svg viewBox={`0 0 ${w} ${h + 30}`} width="100%" role="img" aria-label={props.title}>
        {props.bins.map((b, i) => {
          const bh = (h * b.count) / max;
          return (
            <rect key={i} x={30 + i * bw} y={h - bh + 4} width={Math.max(1, bw - 1)} height={bh} fill="#2563eb" opacity={0.7}>
              <title>{`${b.from}–${b.to}: ${b.count}`}</title>
            </rect>
          );
        })}
        <line x1={30} x2={w - 10} y1={h + 4} y2={h + 4} stroke="#9ca3af" />
        <text x={30} y={h + 20} fontSize="11">{props.bins[0]?.from ?? 0}</text>
        <text x={w - 10} y={h + 20} fontSize="11" textAnchor="end">{props.bins[props.bins.length - 1]?.to ?? 0}</text>
        <text x={w / 2} y={h + 26} fontSize="11" textAnchor="middle" fill="#6b7280">{props.xLabel}</text>
        <text x={26} y={12} fontSize="11" textAnchor="end">{max}</text>
      </svg>
    </figure>
  );
}
