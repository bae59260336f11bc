import { LineChart } from "../components/line-chart";
import { Card, ErrorBox, Status, fmtNum } from "../components/ui";
import { useApi } from "../use-api";
import { useLiveMetrics } from "./run-events";
import type { CompareResponse, Run } from "../api";


export function RunComparePage({ a, b }: { a: string | null; b: string | null }) {
  const { data, error } = useApi<CompareResponse>(a && b ? `/api/compare?a=${a}&b=${b}` : null);
  const sa = useLiveMetrics(a ?? "", false).series;
  const sb = useLiveMetrics(b ?? "", false).series;
  if (!a || !b) return <p>Pick two runs on the <a href="#/runs">Runs</a> page.</p>;
  const label = (r: Run | undefined, fallback: string) => r?.name ?? fallback;
  const [ra, rb] = data?.runs ?? [];
  const names = [...new Set([...Object.keys(sa), ...Object.keys(sb)])].filter((n) => /loss|lr$|tokens_per_s/.test(n)).sort();
  return (
    <>
      <h1><a href="#/runs">Runs</a> / compare</h1>
      <ErrorBox error={error} />
      {data ? (
        <>
          <Card title="Runs">
            <table><tbody>
              {data.runs.map((r, i) => <tr key={r.id}><td>{i === 0 ? "A" : "B"}</td><td><a href={`#/runs/${r.id}`}>{r.name ?? r.id}</a></td><td><Status status={r.status} /></td><td className="muted">{r.id}</td></tr>)}
            </tbody></table>
          </Card>
          <div className="grid2">
            {names.map((n) => (
              <Card key={n} title={n}>
                <LineChart id={`cmp-${n.replace(/\W+/g, "-")}`} title="" xLabel="step" series={[
                  ...(sa[n] ? [{ label: `A ${label(ra, "A")}`, ...sa[n] }] : []),
                  ...(sb[n] ? [{ label: `B ${label(rb, "B")}`, ...sb[n] }] : []),
                ]} />
              </Card>
            ))}
          </div>
          <div className="grid2" style={{ marginTop: 14 }}>
            <Card title="Metrics (last · min · max)">
              <table>
                <thead><tr><th>metric</th><th className="num">A</th><th className="num">B</th></tr></thead>
                <tbody>{data.metrics.map((m) => (
                  <tr key={m.name}><td>{m.name}</td>
                    <td className="num">{m.a ? `${fmtNum(m.a.last, 4)} · ${fmtNum(m.a.min, 4)} · ${fmtNum(m.a.max, 4)}` : "—"}</td>
                    <td className="num">{m.b ? `${fmtNum(m.b.last, 4)} · ${fmtNum(m.b.min, 4)} · ${fmtNum(m.b.max, 4)}` : "—"}</td></tr>
                ))}</tbody>
              </table>
            </Card>
            <Card title="Configuration" testId="config-diff">
              <table>
                <thead><tr><th>key</th><th>A</th><th>B</th></tr></thead>
                <tbody>{data.config.map((c) => (
                  <tr key={c.key} className={c.same ? "diff-same" : ""}><td>{c.key}</td><td><code>{JSON.stringify(c.a)}</code></td><td><code>{JSON.stringify(c.b)}</code></td></tr>
                ))}</tbody>
              </table>
            </Card>
          </div>
        </>
      ) : null}
    </>
  );
}
