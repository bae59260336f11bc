import { useState, type FormEvent } from "react";
import { postJson, type CandidateEstimate, type CostCatalogResponse, type CostEstimateResponse } from "../api";
import { Card, ErrorBox, fmtNum, fmtUsd } from "../components/ui";
import { useApi } from "../use-api";

type Estimate = CandidateEstimate;

const FIELDS = [
  ["trainingTokens", "training tokens per epoch", 1_000_000],
  ["epochs", "epochs", 3],
  ["requestsPerMonth", "requests per month", 100_000],
  ["basePromptTokens", "prompt tokens (base model, long prompt)", 1500],
  ["fineTunedPromptTokens", "prompt tokens (fine-tuned, short prompt)", 200],
  ["outputTokens", "output tokens per request", 150],
  ["prepHours", "data preparation hours", 20],
  ["months", "ROI horizon (months)", 12],
] as const;

const DEFAULT_PICKS = ["openai:gpt-4o-mini-2024-07-18", "openai:gpt-4.1-mini-2025-04-14", "together:meta-llama/Meta-Llama-3.1-8B-Instruct-Reference"];

export function CostPage() {
  const catalog = useApi<CostCatalogResponse>("/api/cost/catalog");
  const [form, setForm] = useState<Record<string, number>>(Object.fromEntries(FIELDS.map(([k, , v]) => [k, v])));
  const [method, setMethod] = useState<"sft" | "dpo">("sft");
  const [type, setType] = useState<"lora" | "full">("lora");
  const [picks, setPicks] = useState<string[]>(DEFAULT_PICKS);
  const [localSize, setLocalSize] = useState(8);
  const [result, setResult] = useState<Estimate[] | null>(null);
  const [error, setError] = useState<Error | null>(null);
  const trainable = (catalog.data?.models ?? []).filter((m) => m.trainable);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    try {
      const candidates = [
        ...picks.map((p) => ({ provider: p.slice(0, p.indexOf(":")), model: p.slice(p.indexOf(":") + 1) })),
        ...(localSize > 0 ? [{ provider: "local", model: `local-${localSize}b`, paramsB: localSize }] : []),
      ];
      const r = await postJson<CostEstimateResponse>("/api/cost/estimate", { ...form, method, type, candidates });
      setResult(r.estimates);
    } catch (err) {
      setError(err as Error);
    }
  };
  return (
    <>
      <h1>Cost estimator</h1>
      <Card title="Workload and training" testId="cost-form">
        <form onSubmit={submit}>
          <div className="form">
            {FIELDS.map(([key, label]) => (
              <label key={key}>{label}<input name={key} type="number" min={0} step="any" value={form[key]} onChange={(e) => setForm({ ...form, [key]: Number(e.target.value) })} /></label>
            ))}
            <label>method<select value={method} onChange={(e) => setMethod(e.target.value as "sft")}><option>sft</option><option>dpo</option></select></label>
            <label>type (Together / local)<select value={type} onChange={(e) => setType(e.target.value as "lora")}><option>lora</option><option>full</option></select></label>
            <label>self-hosted model size (B params, 0 = none)<input type="number" min={0} value={localSize} onChange={(e) => setLocalSize(Number(e.target.value))} /></label>
          </div>
          <h3 style={{ fontSize: 13 }}>Hosted models</h3>
          <div className="toolbar" style={{ maxHeight: 130, overflow: "auto" }}>
            {trainable.map((m) => {
              const key = `${m.provider}:${m.model}`;
              return (
                <label key={key} className="pill"><input type="checkbox" checked={picks.includes(key)} onChange={() => setPicks(picks.includes(key) ? picks.filter((p) => p !== key) : [...picks, key])} /> {m.provider} · {m.model}</label>
              );
            })}
          </div>
          <button type="submit" data-testid="cost-submit">estimate</button>
        </form>
        <ErrorBox error={error ?? catalog.error} />
      </Card>
      {result ? (
        <Card title="Estimates" testId="cost-results">
          <table>
            <thead><tr><th>provider</th><th>model</th><th className="num">training</th><th className="num">GPU-h</th><th className="num">base / month</th><th className="num">fine-tuned / month</th><th className="num">saves / month</th><th className="num">break-even req/mo</th><th className="num">payback (mo)</th><th className="num">ROI</th></tr></thead>
            <tbody>{result.map((e) => (
              <tr key={`${e.provider}:${e.model}`} data-testid="cost-row">
                <td>{e.provider}</td><td>{e.model}</td>
                <td className="num">{fmtUsd(e.training.costUsd)}{e.uncertain.length ? " ≈" : ""}</td>
                <td className="num">{e.local ? e.local.gpuHours.toFixed(2) : ""}</td>
                <td className="num">{fmtUsd(e.inference.baseMonthlyUsd)}</td><td className="num">{fmtUsd(e.inference.fineTunedMonthlyUsd)}</td>
                <td className="num">{fmtUsd(e.inference.savingsMonthlyUsd)}</td>
                <td className="num">{e.breakEvenRequestsPerMonth === null ? "—" : fmtNum(e.breakEvenRequestsPerMonth)}</td>
                <td className="num">{e.paybackMonths === null ? "—" : e.paybackMonths.toFixed(1)}</td>
                <td className="num">{e.roi === null ? "—" : `${Math.round(e.roi * 100)}%`}</td>
              </tr>
            ))}</tbody>
          </table>
          <ul className="muted">{[...new Set(result.flatMap((e) => [...e.notes.map((n) => `${e.model}: ${n}`), ...(e.uncertain.length ? [`${e.model}: unconfirmed figures (≈): ${e.uncertain.join(", ")}`] : [])]))].map((n) => <li key={n}>{n}</li>)}</ul>
        </Card>
      ) : null}
    </>
  );
}
