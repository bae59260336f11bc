import type { VersionPiiResponse } from "../api";
import { Card, ErrorBox, fmtNum } from "../components/ui";
import { useApi } from "../use-api";


/** PII and secrets found in a version: counts by type, masked samples, and where each finding is (never the value). */
export function PiiFindings({ versionId }: { versionId: string }) {
  const { data, error, loading } = useApi<VersionPiiResponse>(`/api/versions/${versionId}/pii`);
  const types = Object.entries(data?.report.byType ?? {}).filter(([, n]) => n > 0);
  return (
    <Card title="PII findings" testId="pii">
      <ErrorBox error={error} />
      {loading ? <p className="muted">scanning…</p> : null}
      {data ? (
        <>
          <p data-testid="pii-summary">
            {fmtNum(data.report.findings)} findings in {fmtNum(data.report.recordsWithFindings)} of {fmtNum(data.report.records)} records.
            {data.report.findings > 0 ? <> Redact with <code>tunekit data pii NAME --mode redact</code>.</> : null}
          </p>
          <div className="toolbar">{types.map(([t, n]) => <span key={t} className="pill">{t}: {n}</span>)}</div>
          {Object.entries(data.report.samples).map(([type, samples]) => (
            <div key={type}>
              <h3 style={{ fontSize: 13 }}>{type} — masked samples</h3>
              <ul>{samples.map((s, i) => <li key={i}><code>{s.masked}</code> <span className="muted">({s.id}, {s.path})</span></li>)}</ul>
            </div>
          ))}
          <table>
            <thead><tr><th className="num">record</th><th>id</th><th>where</th><th>type</th><th className="num">chars</th></tr></thead>
            <tbody>
              {data.findings.slice(0, 200).map((f, i) => (
                <tr key={i}><td className="num">{f.record + 1}</td><td>{f.id}</td><td><code>{f.path}</code></td><td>{f.type}</td><td className="num">{f.start}–{f.end}</td></tr>
              ))}
            </tbody>
          </table>
          {data.findings.length > 200 || data.findingsOmitted > 0 ? <p className="muted">showing 200 of {data.findings.length + data.findingsOmitted}</p> : null}
        </>
      ) : null}
    </Card>
  );
}
