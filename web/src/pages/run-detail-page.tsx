import { useEffect, useState } from "react";
import { postJson, type CancelResponse, type LaunchResponse, type RunDetailResponse, type RunStatus } from "../api";
import { LineChart } from "../components/line-chart";
import { Card, ErrorBox, Status, fmtNum, fmtTime, fmtUsd } from "../components/ui";
import { useApi } from "../use-api";
import { groupMetricCharts } from "./run-charts";
import { useLiveMetrics } from "./run-events";

/** Which control applies to a run: Cancel while it runs (it pauses at a checkpoint), Resume once it stopped resumably. */
export const CANCELLABLE: readonly RunStatus[] = ["pending", "running"];
export const RESUMABLE: readonly RunStatus[] = ["interrupted", "paused", "failed"];

/** A long value (a path, an id) on one line, cut with an ellipsis; the whole value is its tooltip. */
function Clipped({ text }: { text: string }) {
  return <code className="clip" title={text}>{text}</code>;
}

export function flattenConfig(value: unknown, prefix = "", out: [string, unknown][] = []): [string, unknown][] {
  if (value && typeof value === "object" && !Array.isArray(value)) for (const [k, v] of Object.entries(value)) flattenConfig(v, prefix ? `${prefix}.${k}` : k, out);
  else if (prefix) out.push([prefix, value]);
  return out;
}

export function RunDetailPage({ id }: { id: string }) {
  const { data, error, reload } = useApi<RunDetailResponse>(`/api/runs/${id}`);
  const running = data?.run.status === "running" || data?.run.status === "pending";
  const { series, error: liveError } = useLiveMetrics(id, data ? running : false);
  const [actionError, setActionError] = useState<Error | null>(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    if (!running) return;
    const t = setInterval(reload, 3000);
    return () => clearInterval(t);
  }, [running, reload]);
  const act = async (action: "cancel" | "resume") => {
    if (action === "cancel" && !window.confirm(`Stop ${id}? A local run writes a checkpoint and pauses (resume continues it); a hosted job is cancelled at its provider.`)) return;
    setBusy(true);
    setActionError(null);
    try {
      await postJson<CancelResponse | LaunchResponse>(`/api/runs/${id}/${action}`, {});
      reload();
    } catch (e) {
      setActionError(e as Error);
    } finally {
      setBusy(false);
    }
  };
  const charts = groupMetricCharts(Object.keys(series));
  const r = data?.run;
  const result = (r?.result ?? {}) as Record<string, unknown>;
  return (
    <>
      <h1><a href="#/runs">Runs</a> / {r?.name ?? id} {r ? <Status status={r.status} /> : null}</h1>
      <ErrorBox error={error ?? liveError} />
      {r ? (
        <>
          <div className="toolbar">
            {CANCELLABLE.includes(r.status) ? <button data-testid="cancel-run" disabled={busy} onClick={() => act("cancel")}>cancel</button> : null}
            {RESUMABLE.includes(r.status) && r.kind === "train" && r.backend === "local" ? <button data-testid="resume-run" disabled={busy} onClick={() => act("resume")}>resume</button> : null}
            <span className="muted">{running ? "live: curves update as the run writes events" : `ended ${fmtTime(r.endedAt)}`}</span>
          </div>
          <ErrorBox error={actionError} />
          {r.error ? <div className="error"><strong>{r.error.code}</strong>: {r.error.message}{r.error.fix ? <div className="fix">fix: {r.error.fix}</div> : null}</div> : null}
          <div className="grid2">
            {charts.map((c) => (
              <Card key={c.id} title={c.title}>
                <LineChart id={c.id} title="" xLabel="step" series={c.ns.map((n) => ({ label: n, x: series[n].x, y: series[n].y }))} logY={c.logY} />
              </Card>
            ))}
          </div>
          <div className="grid2" style={{ marginTop: 14 }}>
            <Card title="Run">
              <dl className="kv">
                <dt>id</dt><dd><Clipped text={r.id} /></dd>
                <dt>kind / backend</dt><dd>{r.kind} / {r.backend ?? "—"}</dd>
                <dt>dataset</dt><dd>{data!.dataset ? <a href={`#/datasets/${data!.dataset.ref.split("@")[0]}?v=${data!.dataset.ref.split("@")[1]}`}>{data!.dataset.ref}</a> : "—"}</dd>
                <dt>created / started</dt><dd>{fmtTime(r.createdAt)} / {fmtTime(r.startedAt)}</dd>
                <dt>cost</dt><dd data-testid="run-cost">{fmtUsd(r.costUsd)}</dd>
                {Object.entries(result).filter(([, v]) => typeof v === "number" || typeof v === "string").map(([k, v]) => (<><dt key={`k-${k}`}>{k}</dt><dd key={`v-${k}`}>{typeof v === "number" ? fmtNum(v, 4) : <Clipped text={String(v)} />}</dd></>))}
                {data!.models.map((m) => (<><dt key={`mk-${m.id}`}>model</dt><dd key={`mv-${m.id}`}>{m.name} {m.path ? <Clipped text={m.path} /> : null}</dd></>))}
              </dl>
            </Card>
            <Card title="Hyperparameters" testId="hyperparameters">
              <table className="fixed"><tbody>{flattenConfig(r.config).map(([k, v]) => <tr key={k}><td>{k}</td><td><Clipped text={JSON.stringify(v)} /></td></tr>)}</tbody></table>
            </Card>
            <Card title={`Checkpoints (${data!.checkpoints.length})`} testId="checkpoints">
              <table className="fixed">
                <thead><tr><th className="num" style={{ width: "4em" }}>step</th><th>path</th><th style={{ width: "3em" }}>best</th><th style={{ width: "11em" }}>time</th></tr></thead>
                <tbody>{data!.checkpoints.map((c) => <tr key={c.id}><td className="num">{c.step}</td><td><Clipped text={String(c.data?.path ?? "")} /></td><td>{c.data?.best ? "★" : ""}</td><td>{fmtTime(c.ts)}</td></tr>)}</tbody>
              </table>
            </Card>
            <Card title="Logs" testId="logs">
              <div className="tokens" style={{ maxHeight: 260, overflow: "auto" }}>
                {[...data!.statuses, ...data!.logs].sort((a, b) => a.id - b.id).map((e) => (
                  <div key={e.id} className="wrap"><span className="muted">{e.ts.slice(11, 19)} {e.type === "status" ? "status" : e.name}</span> {e.type === "status" ? `→ ${e.name}` : String(e.data?.message ?? "")}</div>
                ))}
              </div>
            </Card>
          </div>
        </>
      ) : null}
    </>
  );
}
