import { useState } from "react";
import { Histogram } from "../components/bars";
import type { DatasetDetailResponse, DatasetListResponse, VersionStatsResponse } from "../api";
import { LineageGraph } from "../components/lineage-graph";
import { Card, ErrorBox, fmtNum, fmtTime } from "../components/ui";
import { useApi } from "../use-api";
import { LossMaskPreview } from "./loss-mask-preview";
import { PiiFindings } from "./pii-findings";
import { RecordBrowser } from "./record-browser";


export function DatasetsPage() {
  const { data, error } = useApi<DatasetListResponse>("/api/datasets");
  return (
    <>
      <h1>Datasets</h1>
      <ErrorBox error={error} />
      <Card title="All datasets">
        {data && data.datasets.length === 0 ? <p className="muted">No datasets yet: <code>tunekit data import FILE --name NAME</code></p> : null}
        <table data-testid="datasets-table">
          <thead><tr><th>name</th><th>description</th><th className="num">versions</th><th className="num">records (latest)</th><th>updated</th></tr></thead>
          <tbody>
            {data?.datasets.map((d) => (
              <tr key={d.id} className="clickable" onClick={() => (window.location.hash = `#/datasets/${encodeURIComponent(d.name)}`)}>
                <td><a href={`#/datasets/${encodeURIComponent(d.name)}`}>{d.name}</a></td>
                <td>{d.description}</td>
                <td className="num">{d.versions}</td>
                <td className="num">{fmtNum(d.latest?.recordCount)}</td>
                <td>{fmtTime(d.latest?.createdAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </Card>
    </>
  );
}


function StatsPanel({ versionId }: { versionId: string }) {
  const { data, error, loading } = useApi<VersionStatsResponse>(`/api/versions/${versionId}/stats`);
  const s = data?.stats;
  const labels = s?.label ? Object.entries(s.label.counts) : [];
  const maxLabel = Math.max(1, ...labels.map(([, n]) => n));
  return (
    <Card title="Stats" testId="stats">
      <ErrorBox error={error} />
      {loading ? <p className="muted">computing stats…</p> : null}
      {s ? (
        <div className="grid2">
          <div>
            <dl className="kv">
              <dt>records</dt><dd>{fmtNum(s.records)}</dd>
              <dt>tokens / example</dt><dd>mean {fmtNum(s.tokensPerExample.mean, 1)} · p50 {s.tokensPerExample.p50} · p90 {s.tokensPerExample.p90} · max {s.tokensPerExample.max} ({s.tokenizer.name})</dd>
              <dt>over context ({s.contextLimit})</dt><dd>{s.overLimit}</dd>
              <dt>turns / example</dt><dd>{fmtNum(s.turns.mean, 1)}</dd>
              <dt>languages</dt><dd>{Object.entries(s.languages).slice(0, 4).map(([l, n]) => `${l} ${n}`).join(" · ")}</dd>
              {s.duplicates ? (<><dt>duplicates</dt><dd>{s.duplicates.exact} exact · {s.duplicates.near} near ({(s.duplicates.rate * 100).toFixed(1)}%)</dd></>) : null}
              {s.pii ? (<><dt>records with PII</dt><dd>{s.pii.recordsWithFindings} ({(s.pii.rate * 100).toFixed(1)}%)</dd></>) : null}
              {s.label ? (<><dt>labels ({s.label.field})</dt><dd>{labels.length} distinct · imbalance {s.label.imbalance}×</dd></>) : null}
            </dl>
            {s.warnings.map((w, i) => <div key={i} className="error">{w.message}</div>)}
            <Histogram testId="token-histogram" title="Tokens per example" bins={s.tokenHistogram} xLabel="tokens" />
          </div>
          {labels.length ? (
            <figure className="chart" data-testid="label-chart">
              <figcaption>Top labels ({s.label!.field})</figcaption>
              <svg viewBox={`0 0 520 ${Math.min(20, labels.length) * 16 + 4}`} width="100%">
                {labels.slice(0, 20).map(([l, n], i) => (
                  <g key={l}>
                    <text x={196} y={i * 16 + 12} fontSize="11" textAnchor="end">{l.length > 30 ? l.slice(0, 29) + "…" : l}</text>
                    <rect x={200} y={i * 16 + 3} width={(280 * n) / maxLabel} height={11} fill="#16a34a" opacity={0.7} />
                    <text x={204 + (280 * n) / maxLabel} y={i * 16 + 12} fontSize="10">{n}</text>
                  </g>
                ))}
              </svg>
            </figure>
          ) : null}
        </div>
      ) : null}
    </Card>
  );
}

export function DatasetPage({ name, version }: { name: string; version: string | null }) {
  const { data, error } = useApi<DatasetDetailResponse>(`/api/datasets/${encodeURIComponent(name)}`);
  const [tab, setTab] = useState<"records" | "stats" | "pii" | "preview">("records");
  const versions = data?.versions ?? [];
  const selected = versions.find((v) => String(v.number) === version || v.id === version) ?? versions[versions.length - 1];
  const select = (id: string) => {
    const v = versions.find((x) => x.id === id);
    if (v) window.location.hash = `#/datasets/${encodeURIComponent(name)}?v=${v.number}`;
    else if (id.startsWith("run_")) window.location.hash = `#/runs/${id}`;
  };
  return (
    <>
      <h1><a href="#/datasets">Datasets</a> / {name}</h1>
      <ErrorBox error={error} />
      {data ? (
        <>
          <Card title="Versions and lineage" testId="versions">
            <p className="muted">{data.dataset.description}</p>
            <LineageGraph nodes={data.lineage.nodes} edges={data.lineage.edges} selected={selected?.id} onSelect={select} />
            <table>
              <thead><tr><th>version</th><th>transform</th><th className="num">records</th><th>sha256</th><th>created</th></tr></thead>
              <tbody>
                {versions.map((v) => (
                  <tr key={v.id} className="clickable" onClick={() => select(v.id)} style={v.id === selected?.id ? { background: "#eff6ff" } : undefined}>
                    <td>{v.datasetName}@{v.number}</td><td>{v.transform}</td><td className="num">{fmtNum(v.recordCount)}</td>
                    <td><code>{v.sha256.slice(0, 12)}</code></td><td>{fmtTime(v.createdAt)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </Card>
          {selected ? (
            <>
              <div className="tabs">
                {(["records", "stats", "pii", "preview"] as const).map((t) => (
                  <button key={t} className={tab === t ? "active" : ""} onClick={() => setTab(t)}>
                    {{ records: "Records", stats: "Stats", pii: "PII findings", preview: "Loss-mask preview" }[t]}
                  </button>
                ))}
                <span className="muted" style={{ alignSelf: "center" }}>version {selected.datasetName}@{selected.number}</span>
              </div>
              {tab === "records" ? <RecordBrowser versionId={selected.id} /> : null}
              {tab === "stats" ? <StatsPanel versionId={selected.id} /> : null}
              {tab === "pii" ? <PiiFindings versionId={selected.id} /> : null}
              {tab === "preview" ? <LossMaskPreview versionId={selected.id} /> : null}
            </>
          ) : null}
        </>
      ) : null}
    </>
  );
}
