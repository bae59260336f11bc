import { useState } from "react";
import { qs, type EvalAdviceResponse, type EvalDetailResponse, type EvalExamplesResponse, type EvalListResponse } from "../api";
import { CiBars } from "../components/bars";
import { LineChart } from "../components/line-chart";
import { Card, ErrorBox, Status, fmtNum, fmtPct, fmtTime, fmtUsd } from "../components/ui";
import { useApi } from "../use-api";


const show = (v: unknown) => (typeof v === "string" ? v : JSON.stringify(v, null, 1));

function ExampleViewer({ id, metric, candidates }: { id: string; metric: string; candidates: string[] }) {
  const [q, setQ] = useState("");
  const [disagree, setDisagree] = useState(true);
  const [offset, setOffset] = useState(0);
  const { data, error } = useApi<EvalExamplesResponse>(`/api/evals/${id}/examples${qs({ q, disagree: disagree ? 1 : undefined, offset, limit: 10, metric })}`);
  return (
    <Card title="Examples side by side" testId="example-viewer">
      <div className="toolbar">
        <input placeholder="search inputs and outputs…" value={q} onChange={(e) => { setQ(e.target.value); setOffset(0); }} />
        <label><input type="checkbox" checked={disagree} onChange={(e) => { setDisagree(e.target.checked); setOffset(0); }} /> only where candidates disagree on {metric}</label>
        <span className="muted">{data ? `${data.matched} of ${data.total}` : ""}</span>
        <span style={{ flex: 1 }} />
        <button className="secondary" disabled={offset === 0} onClick={() => setOffset(offset - 10)}>previous</button>
        <button className="secondary" disabled={!data || offset + 10 >= data.matched} onClick={() => setOffset(offset + 10)}>next</button>
      </div>
      <ErrorBox error={error} />
      {data?.rows.map((r) => (
        <div key={r.id} data-testid="example-row" style={{ borderTop: "1px solid #e5e7eb", padding: "8px 0" }}>
          <div><span className="muted">{r.id} · input</span> {show(r.input)}</div>
          <div><span className="muted">reference</span> <strong>{show(r.reference)}</strong></div>
          <div className="side" style={{ marginTop: 4 }}>
            {candidates.map((c) => {
              const out = r.candidates[c];
              const score = out?.scores[metric];
              return (
                <div key={c} className={`cell ${score === 1 ? "right" : score === 0 ? "wrong" : ""}`}>
                  <div className="muted">{c} · {metric} {fmtNum(score ?? null, 2)}{out?.latencyMs ? ` · ${Math.round(out.latencyMs)} ms` : ""}</div>
                  {out?.output ?? <em>no output</em>}
                </div>
              );
            })}
          </div>
        </div>
      ))}
    </Card>
  );
}

function Advice({ id }: { id: string }) {
  const { data, error } = useApi<EvalAdviceResponse>(`/api/evals/${id}/advice`);
  return (
    <Card title="Advice: is fine-tuning worth it?" testId="advice">
      <ErrorBox error={error} />
      {data ? (
        <>
          <p className="advice">{data.headline}</p>
          <ul>{data.reasons.map((r, i) => <li key={i}>{r}</li>)}</ul>
          <dl className="kv">{Object.entries(data.numbers).filter(([, v]) => v !== null).map(([k, v]) => (<><dt key={`k${k}`}>{k}</dt><dd key={`v${k}`}>{typeof v === "number" ? fmtNum(v, 4) : v}</dd></>))}</dl>
        </>
      ) : null}
    </Card>
  );
}

function EvalDetail({ id }: { id: string }) {
  const { data, error } = useApi<EvalDetailResponse>(`/api/evals/${id}`);
  const s = data?.summary;
  const metrics = s ? Object.keys(s.candidates[0]?.metrics ?? {}) : [];
  return (
    <>
      <h1><a href="#/evals">Evaluations</a> / {data?.run.name ?? id}</h1>
      <ErrorBox error={error} />
      {s ? (
        <>
          {s.verdicts.map((v, i) => <p key={i} className="advice" data-testid="verdict">{v}</p>)}
          <div className="grid2">
            {metrics.map((m) => (
              <Card key={m} title={`${m}${m === s.primaryMetric ? " (primary)" : ""}`} testId={`ci-${m}`}>
                <CiBars title="" max={s.candidates[0].metrics[m].unit === "fraction" ? 1 : undefined} bars={s.candidates.map((c) => ({ label: c.name, value: c.metrics[m].value, low: c.metrics[m].low, high: c.metrics[m].high }))} format={(v) => (s.candidates[0].metrics[m].unit === "fraction" ? fmtPct(v) : v.toFixed(3))} />
              </Card>
            ))}
          </div>
          <Card title="Candidates" testId="candidates">
            <table>
              <thead><tr><th>candidate</th><th>prompt</th>{metrics.map((m) => <th key={m} className="num">{m} (95% CI)</th>)}<th className="num">p50 ms</th><th className="num">cost</th><th className="num">failures</th></tr></thead>
              <tbody>{s.candidates.map((c) => (
                <tr key={c.name}><td>{c.name}</td><td className="muted">{c.prompt}</td>
                  {metrics.map((m) => <td key={m} className="num">{fmtNum(c.metrics[m].value, 3)} <span className="muted">[{fmtNum(c.metrics[m].low, 3)}, {fmtNum(c.metrics[m].high, 3)}]</span></td>)}
                  <td className="num">{fmtNum(c.latency ? Math.round(c.latency.p50Ms) : null, 0)}</td><td className="num">{fmtUsd(c.cost.totalCostUsd)}</td><td className="num">{c.failures}</td></tr>
              ))}</tbody>
            </table>
            {/* The verdicts (in words) are shown once, above; here the numbers behind every comparison. */}
            <h3 style={{ fontSize: 13 }}>Comparisons</h3>
            <table data-testid="comparisons">
              <thead><tr><th>metric</th><th>a − b</th><th className="num">difference (95% CI)</th><th className="num">p</th></tr></thead>
              <tbody>{s.comparisons.map((c, i) => (
                <tr key={i}><td>{c.metric}</td><td>{c.a} − {c.b}</td><td className="num">{fmtNum(c.difference, 3)} <span className="muted">[{fmtNum(c.low, 3)}, {fmtNum(c.high, 3)}]</span></td><td className="num">{fmtNum(c.pValue, 3)}</td></tr>
              ))}</tbody>
            </table>
          </Card>
          <div className="grid2">
            <Card title="Learning curve" testId="learning-curve">
              {data!.curve ? (
                <>
                  <LineChart id="learning-curve" title={data!.curve.metric} xLabel="training examples" series={[
                    { label: "measured", x: data!.curve.points.map((p) => p.examples), y: data!.curve.points.map((p) => p.value) },
                    ...(data!.curve.fit ? [{ label: "projected", x: data!.curve.fit.projections.map((p) => p.examples), y: data!.curve.fit.projections.map((p) => p.value) }] : []),
                  ]} />
                  {data!.curve.fit ? <p className="muted">{data!.curve.fit.summary}</p> : null}
                </>
              ) : <p className="muted">No learning curve yet: <code>tunekit eval curve --config eval.yaml --train train.yaml</code></p>}
            </Card>
            <Advice id={id} />
          </div>
          <ExampleViewer id={id} metric={s.primaryMetric} candidates={s.candidates.map((c) => c.name)} />
        </>
      ) : null}
    </>
  );
}

export function EvalsPage({ id }: { id: string | null }) {
  const { data, error } = useApi<EvalListResponse>(id ? null : "/api/evals");
  if (id) return <EvalDetail id={id} />;
  return (
    <>
      <h1>Evaluations</h1>
      <ErrorBox error={error} />
      <Card title="Eval runs">
        {data && data.evals.length === 0 ? <p className="muted">No evaluations yet: <code>tunekit eval run --config eval.yaml</code></p> : null}
        <table data-testid="evals-table">
          <thead><tr><th>eval</th><th>status</th><th>candidates ({"primary metric"})</th><th>verdict</th><th>created</th></tr></thead>
          <tbody>{data?.evals.map((e) => (
            <tr key={e.id} className="clickable" onClick={() => (window.location.hash = `#/evals/${e.id}`)}>
              <td><a href={`#/evals/${e.id}`}>{e.name ?? e.id}</a> <span className="muted">{e.kind}</span></td>
              <td><Status status={e.status} /></td>
              <td>{e.candidates.map((c) => <span key={c.name} className="pill">{c.name}: {fmtNum(c.metric?.value ?? null, 3)}</span>)}</td>
              <td>{e.verdict ?? "—"}</td><td>{fmtTime(e.createdAt)}</td>
            </tr>
          ))}</tbody>
        </table>
      </Card>
    </>
  );
}
