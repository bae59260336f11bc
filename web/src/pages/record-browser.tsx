import { useEffect, useState } from "react";
import { qs, type RecordPageResponse } from "../api";
import { Card, ErrorBox, fmtNum } from "../components/ui";
import { useApi } from "../use-api";

interface Message { role: string; content: string | null }
type Rec = { messages?: Message[]; text?: string; metadata?: Record<string, unknown> } & Record<string, unknown>;

export function RecordView({ record }: { record: Rec }) {
  if (record.messages) {
    return (
      <div className="chat">
        {record.messages.map((m, i) => (
          <div key={i} className={`msg msg-${m.role}`}><span className="role">{m.role}</span>{m.content}</div>
        ))}
      </div>
    );
  }
  if (typeof record.text === "string") return <div className="msg">{record.text}</div>;
  return <pre className="msg">{JSON.stringify(record, null, 2)}</pre>;
}

/** Paged, searchable, filterable view of a version's records (streamed server-side over the version's JSONL). */
export function RecordBrowser({ versionId }: { versionId: string }) {
  const [search, setSearch] = useState("");
  const [typed, setTyped] = useState("");
  const [filters, setFilters] = useState<Record<string, string>>({});
  const [offset, setOffset] = useState(0);
  const limit = 20;
  useEffect(() => {
    const t = setTimeout(() => setSearch(typed), 250);
    return () => clearTimeout(t);
  }, [typed]);
  useEffect(() => setOffset(0), [search, filters, versionId]);
  const path = `/api/versions/${versionId}/records${qs({ q: search, offset, limit, filter: Object.entries(filters).filter(([, v]) => v).map(([k, v]) => `${k}:${v}`) })}`;
  const { data, error, loading } = useApi<RecordPageResponse>(path);
  const facets = Object.entries(data?.facets ?? {}).filter(([, values]) => values.length > 1);
  return (
    <Card title="Records" testId="record-browser">
      <div className="toolbar">
        <input data-testid="record-search" placeholder="search text…" value={typed} onChange={(e) => setTyped(e.target.value)} style={{ minWidth: 240 }} />
        {facets.map(([key, values]) => (
          <select key={key} data-testid={`filter-${key}`} value={filters[key] ?? ""} onChange={(e) => setFilters({ ...filters, [key]: e.target.value })}>
            <option value="">{key}: any</option>
            {values.slice(0, 100).map((v) => <option key={v.value} value={v.value}>{v.value} ({v.count})</option>)}
          </select>
        ))}
        <span className="muted" data-testid="record-count">{data ? `${fmtNum(data.matched)} of ${fmtNum(data.total)} records` : loading ? "loading…" : ""}</span>
        <span style={{ flex: 1 }} />
        <button className="secondary" disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - limit))}>previous</button>
        <button className="secondary" disabled={!data || offset + limit >= data.matched} onClick={() => setOffset(offset + limit)}>next</button>
      </div>
      <ErrorBox error={error} />
      <table>
        <thead><tr><th className="num">#</th><th>record</th><th>metadata</th></tr></thead>
        <tbody>
          {data?.records.map(({ index, record }) => (
            <tr key={index} data-testid="record-row">
              <td className="num">{index + 1}</td>
              <td style={{ width: "65%" }}><RecordView record={record} /></td>
              <td>{Object.entries(record.metadata ?? {}).map(([k, v]) => <span key={k} className="pill">{k}: {String(v)}</span>)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </Card>
  );
}
