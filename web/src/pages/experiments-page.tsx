import { useState } from "react";
import { postJson, qs, type ExperimentActionResponse, type ExperimentListResponse, type ExperimentView, type MonitoringResponse, type VariantWindow } from "../api";
import { CiBars } from "../components/bars";
import { LineChart } from "../components/line-chart";
import { Card, ErrorBox, Status, fmtNum, fmtPct, fmtTime, fmtUsd } from "../components/ui";
import { useApi } from "../use-api";

type Experiment = ExperimentView;
type Window = VariantWindow;

function byVariant(windows: Window[], pick: (w: Window) => number | null) {
  const variants = [...new Set(windows.map((w) => w.variant))];
  return variants.map((v) => {
    const ws = windows.filter((w) => w.variant === v);
    return { label: v || "(no variant)", x: ws.map((w) => w.start / 1000), y: ws.map(pick) };
  });
}

function ExperimentCard({ e, onChange }: { e: Experiment; onChange: () => void }) {
  const [error, setError] = useState<Error | null>(null);
  const act = async (action: string, variant?: string) => {
    setError(null);
    try {
      await postJson<ExperimentActionResponse>(`/api/experiments/${e.name}/${action}`, variant ? { variant } : {});
      onChange();
    } catch (err) {
      setError(err as Error);
    }
  };
  return (
    <Card title={<>{e.name} <Status status={e.status} /></>} testId={`experiment-${e.name}`} actions={
      <>
        <button className="secondary" disabled={e.status === "running"} onClick={() => act("start")}>start</button>
        <button className="secondary" disabled={e.status !== "running"} onClick={() => act("stop")}>stop</button>
        {e.variants.slice(1).map((v) => <button key={v.route} className="secondary" onClick={() => act("promote", v.route)}>promote {v.route}</button>)}
        <button className="secondary" disabled={e.status !== "promoted" && e.status !== "running"} onClick={() => act("rollback")}>rollback</button>
      </>
    }>
      <ErrorBox error={error} />
      <p className="muted">model <code>{e.model}</code> · {e.variants.map((v) => `${v.route} (weight ${v.weight})`).join(" vs ")} · {fmtNum(e.requests)} requests{e.winner ? ` · routed to ${e.winner}` : ""}</p>
      <div className="grid2">
        <CiBars title={`${e.analysis.metric} rate with 95% CI`} max={1} format={fmtPct} bars={e.analysis.variants.map((v) => ({ label: v.variant, value: v.rate, low: v.ciLow, high: v.ciHigh }))} testId="experiment-rates" />
        <div>
          <table>
            <thead><tr><th>variant</th><th className="num">n</th><th className="num">rate</th><th className="num">p50 ms</th><th className="num">cost</th></tr></thead>
            <tbody>{e.analysis.variants.map((v) => <tr key={v.variant}><td>{v.variant}</td><td className="num">{v.n}</td><td className="num">{fmtPct(v.rate)}</td><td className="num">{fmtNum(v.latencyP50, 0)}</td><td className="num">{fmtUsd(v.costUsd)}</td></tr>)}</tbody>
          </table>
          {e.analysis.comparisons.map((c) => (
            <p key={c.variant} data-testid="significance"><strong>{c.variant}</strong> vs {c.control}: {c.diff >= 0 ? "+" : ""}{(c.diff * 100).toFixed(1)} points (95% CI {(c.ciLow * 100).toFixed(1)}…{(c.ciHigh * 100).toFixed(1)}), p = {c.p.toPrecision(3)} — <strong>{c.significant ? "significant" : "not significant"}</strong></p>
          ))}
          <div className="muted">{e.history.slice(-4).map((h, i) => <div key={i}>{fmtTime(h.ts)} {h.action} → {h.status}{h.actor ? ` (${h.actor})` : ""}</div>)}</div>
        </div>
      </div>
    </Card>
  );
}

export function ExperimentsPage() {
  const [since, setSince] = useState("7d");
  const [bucket, setBucket] = useState("2h");
  const exps = useApi<ExperimentListResponse>(`/api/experiments${qs({ since })}`);
  const mon = useApi<MonitoringResponse>(`/api/monitoring${qs({ since, bucket })}`);
  const w = mon.data?.windows ?? [];
  return (
    <>
      <h1>Experiments & monitoring</h1>
      <div className="toolbar">
        window <select value={since} onChange={(e) => setSince(e.target.value)}>{["24h", "3d", "7d", "30d"].map((s) => <option key={s}>{s}</option>)}</select>
        bucket <select value={bucket} onChange={(e) => setBucket(e.target.value)}>{["15m", "1h", "2h", "6h", "1d"].map((s) => <option key={s}>{s}</option>)}</select>
      </div>
      <ErrorBox error={exps.error ?? mon.error} />
      {exps.data?.experiments.length === 0 ? <p className="muted">No experiments: add gateway.experiments to tunekit.yaml.</p> : null}
      {exps.data?.experiments.map((e) => <ExperimentCard key={e.name} e={e} onChange={exps.reload} />)}
      {mon.data ? (
        <>
          {mon.data.alerts.map((a, i) => <div key={i} className="error">ALERT {a.message}</div>)}
          <p className="muted">{fmtNum(mon.data.requests)} requests in the window.</p>
          <div className="grid2">
            <Card title="Traffic (requests per bucket)"><LineChart id="traffic" title="" time series={byVariant(w, (x) => x.n)} /></Card>
            <Card title="Latency p95 (ms)"><LineChart id="latency" title="" time series={byVariant(w, (x) => x.latencyP95)} /></Card>
            <Card title="Cost (USD per bucket)"><LineChart id="cost" title="" time series={byVariant(w, (x) => x.costUsd)} /></Card>
            <Card title="Feedback score (mean)"><LineChart id="feedback" title="" time series={byVariant(w, (x) => x.feedbackScore)} /></Card>
          </div>
        </>
      ) : null}
    </>
  );
}
