/** The lineage DAG as layered SVG: versions, then the runs that used them, then the models they produced. */
export interface LineageNode {
  id: string;
  kind: "version" | "run" | "model";
  label: string;
  detail: string;
}
export interface LineageEdge {
  from: string;
  to: string;
  label: string;
}

const FILL = { version: "#dbeafe", run: "#fef3c7", model: "#dcfce7" } as const;

export function layers(nodes: readonly LineageNode[], edges: readonly LineageEdge[]): Map<string, number> {
  const depth = new Map(nodes.map((n) => [n.id, 0]));
  for (let pass = 0; pass < nodes.length; pass++) {
    let changed = false;
    for (const e of edges) {
      const d = (depth.get(e.from) ?? 0) + 1;
      if (d > (depth.get(e.to) ?? 0)) {
        depth.set(e.to, d);
        changed = true;
      }
    }
    if (!changed) break;
  }
  return depth;
}

export function LineageGraph(props: { nodes: LineageNode[]; edges: LineageEdge[]; selected?: string; onSelect?: (id: string) => void }) {
  const depth = layers(props.nodes, props.edges);
  const columns = new Map<number, LineageNode[]>();
  for (const n of props.nodes) columns.set(depth.get(n.id)!, [...(columns.get(depth.get(n.id)!) ?? []), n]);
  const nw = 170;
  const nh = 44;
  const gx = 60;
  const gy = 14;
  const pos = new Map<string, { x: number; y: number }>();
  for (const [d, list] of columns) list.forEach((n, i) => pos.set(n.id, { x: 10 + d * (nw + gx), y: 10 + i * (nh + gy) }));
  const width = 20 + (Math.max(0, ...columns.keys()) + 1) * (nw + gx) - gx;
  const height = 20 + Math.max(1, ...[...columns.values()].map((l) => l.length)) * (nh + gy) - gy;
  return (
    <svg className="lineage" data-testid="lineage-graph" viewBox={`0 0 ${width} ${height}`} width={Math.min(width, 900)} role="img" aria-label="lineage graph">
      <defs>
        <marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
          <path d="M 0 0 L 10 5 L 0 10 z" fill="#6b7280" />
        </marker>
      </defs>
      {props.edges.map((e) => {
        const a = pos.get(e.from);
        const b = pos.get(e.to);
        if (!a || !b) return null;
        const [x1, y1, x2, y2] = [a.x + nw, a.y + nh / 2, b.x, b.y + nh / 2];
        return (
          <g key={`${e.from}-${e.to}`}>
            <path d={`M${x1},${y1} C${x1 + gx / 2},${y1} ${x2 - gx / 2},${y2} ${x2 - 2},${y2}`} fill="none" stroke="#6b7280" markerEnd="url(#arrow)" />
            <text x={(x1 + x2) / 2} y={(y1 + y2) / 2 - 4} fontSize="10" textAnchor="middle" fill="#6b7280">{e.label}</text>
          </g>
        );
      })}
      {props.nodes.map((n) => {
        const p = pos.get(n.id)!;
        return (
          <g key={n.id} transform={`translate(${p.x},${p.y})`} onClick={() => props.onSelect?.(n.id)} style={{ cursor: props.onSelect ? "pointer" : "default" }}>
            <rect width={nw} height={nh} rx={6} fill={FILL[n.kind]} stroke={props.selected === n.id ? "#111827" : "#9ca3af"} strokeWidth={props.selected === n.id ? 2 : 1} />
            <text x={8} y={17} fontSize="12" fontWeight={600}>{n.label.length > 24 ? n.label.slice(0, 23) + "…" : n.label}</text>
            <text x={8} y={33} fontSize="10" fill="#4b5563">{n.detail.length > 30 ? n.detail.slice(0, 29) + "…" : n.detail}</text>
          </g>
        );
      })}
    </svg>
  );
}
