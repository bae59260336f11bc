import { useState } from "react";
import { postJson, qs } from "../api";
import { Card, ErrorBox, Status, fmtTime, fmtUsd } from "../components/ui";
import type { LaunchResponse, RunListResponse, RunStatus } from "../api";
import { useApi } from "../use-api";

const EXAMPLE_SPEC = `# a train.yaml: paths are relative to the workspace
name: my-run
model: models/base
dataset: my-dataset
method: lora
epochs: 1
`;

/** Every RunStatus; `satisfies` makes the typecheck fail when the registry gains one this list lacks. */
const RUN_STATUSES = ["pending", "running", "paused", "interrupted", "succeeded", "failed", "cancelled"] as const satisfies readonly RunStatus[];
type MissingStatus = Exclude<RunStatus, (typeof RUN_STATUSES)[number]>;
const allStatusesListed: MissingStatus extends never ? true : MissingStatus = true;
void allStatusesListed;

function StartRunForm({ onStarted }: { onStarted: (id: string) => void }) {
  const [spec, setSpec] = useState(EXAMPLE_SPEC);
  const [error, setError] = useState<Error | null>(null);
  const [busy, setBusy] = useState(false);
  const start = async () => {
    setBusy(true);
    setError(null);
    try {
      const r = await postJson<LaunchResponse>("/api/runs", { spec });
      if (r.run) onStarted(r.run.id);
      else setError(new Error(`the run did not register within 20 s; see its log ${r.log}`));
    } catch (e) {
      setError(e as Error);
    } finally {
      setBusy(false);
    }
  };
  return (
    <Card title="Start a local training run" testId="start-run">
      <p className="muted">The spec is validated first (every problem at once); the run is then supervised by its own <code>tunekit train</code> process, so closing the dashboard does not stop it.</p>
      <textarea data-testid="start-spec" value={spec} onChange={(e) => setSpec(e.target.value)} rows={8} style={{ width: "100%", fontFamily: "ui-monospace, monospace" }} />
      <div className="toolbar"><button data-testid="start-submit" disabled={busy} onClick={start}>{busy ? "starting…" : "start run"}</button></div>
      <ErrorBox error={error} />
    </Card>
  );
}

export function RunsPage() {
  const [kind, setKind] = useState("");
  const [status, setStatus] = useState("");
  const [picked, setPicked] = useState<string[]>([]);
  const [showStart, setShowStart] = useState(false);
  const { data, error, reload } = useApi<RunListResponse>(`/api/runs${qs({ kind, status })}`);
  const toggle = (id: string) => setPicked((p) => (p.includes(id) ? p.filter((x) => x !== id) : [...p.slice(-1), id]));
  return (
    <>
      <h1>Runs</h1>
      <div className="toolbar">
        <select value={kind} onChange={(e) => setKind(e.target.value)}>
          <option value="">all kinds</option>
          {["train", "eval", "curve", "serve", "data", "quickstart"].map((k) => <option key={k}>{k}</option>)}
        </select>
        <select value={status} onChange={(e) => setStatus(e.target.value)}>
          <option value="">any status</option>
          {RUN_STATUSES.map((k) => <option key={k}>{k}</option>)}
        </select>
        <button className="secondary" onClick={reload}>refresh</button>
        <button data-testid="compare-button" disabled={picked.length !== 2} onClick={() => (window.location.hash = `#/compare?a=${picked[0]}&b=${picked[1]}`)}>compare selected ({picked.length}/2)</button>
        <button className="secondary" onClick={() => setShowStart(!showStart)}>{showStart ? "hide" : "start a run…"}</button>
      </div>
      {showStart ? <StartRunForm onStarted={(id) => (window.location.hash = `#/runs/${id}`)} /> : null}
      <ErrorBox error={error} />
      <Card title="All runs">
        <table data-testid="runs-table">
          <thead><tr><th /><th>run</th><th>kind</th><th>status</th><th>backend</th><th>created</th><th className="num">cost</th></tr></thead>
          <tbody>
            {data?.runs.map((r) => (
              <tr key={r.id} data-testid="run-row">
                <td><input type="checkbox" aria-label={`select ${r.id}`} checked={picked.includes(r.id)} onChange={() => toggle(r.id)} /></td>
                <td><a href={r.kind === "eval" || r.kind === "curve" ? `#/evals/${r.id}` : `#/runs/${r.id}`}>{r.name ?? r.id}</a> <span className="muted">{r.id}</span></td>
                <td>{r.kind}</td>
                <td><Status status={r.status} /></td>
                <td>{r.backend ?? "—"}</td>
                <td>{fmtTime(r.createdAt)}</td>
                <td className="num">{fmtUsd(r.costUsd)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </Card>
    </>
  );
}
