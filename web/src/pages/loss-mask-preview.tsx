import { useState } from "react";
import { postJson, type PreviewResponse } from "../api";
import { Card, ErrorBox } from "../components/ui";


/** What training would see: the rendered chat template with the trained tokens highlighted. */
export function LossMaskPreview({ versionId }: { versionId: string }) {
  const [model, setModel] = useState(() => localStorage.getItem("tk.previewModel") ?? "");
  const [count, setCount] = useState(3);
  const [seqLen, setSeqLen] = useState("");
  const [trainOn, setTrainOn] = useState<"assistant" | "all">("assistant");
  const [result, setResult] = useState<PreviewResponse | null>(null);
  const [error, setError] = useState<Error | null>(null);
  const [busy, setBusy] = useState(false);
  const run = async () => {
    setBusy(true);
    setError(null);
    localStorage.setItem("tk.previewModel", model);
    try {
      setResult(await postJson<PreviewResponse>(`/api/versions/${versionId}/preview`, { model, count, trainOn, ...(seqLen ? { seqLen: Number(seqLen) } : {}) }));
    } catch (e) {
      setError(e as Error);
    } finally {
      setBusy(false);
    }
  };
  return (
    <Card title="Loss-mask preview" testId="preview">
      <div className="toolbar">
        <input data-testid="preview-model" placeholder="model folder (with tokenizer.json) or registered model" value={model} onChange={(e) => setModel(e.target.value)} style={{ minWidth: 380 }} />
        <label>examples <input type="number" min={1} max={20} value={count} onChange={(e) => setCount(Number(e.target.value))} style={{ width: 60 }} /></label>
        <label>seq len <input type="number" min={2} value={seqLen} onChange={(e) => setSeqLen(e.target.value)} style={{ width: 80 }} placeholder="none" /></label>
        <select value={trainOn} onChange={(e) => setTrainOn(e.target.value as "assistant" | "all")}><option value="assistant">train on assistant</option><option value="all">train on all</option></select>
        <button data-testid="preview-run" disabled={!model || busy} onClick={run}>{busy ? "rendering…" : "preview"}</button>
      </div>
      <ErrorBox error={error} />
      {result ? (
        <>
          <p className="muted">Tokenizer and template of {result.modelDir}. <span className="tokens trained" style={{ border: 0, padding: 2 }}>green</span> tokens are trained; grey ones are context; red were cut by seq len.</p>
          {result.examples.map((e) => (
            <div key={e.index} data-testid="preview-example" style={{ marginBottom: 10 }}>
              <div className="muted">record {e.index + 1}: {e.tokens} tokens, {e.trainedTokens} trained</div>
              <div className="tokens">
                {e.segments.map((s, i) => <span key={i} className={s.truncated ? "truncated" : s.trained ? "trained" : "untrained"}>{s.text}</span>)}
              </div>
              {e.warnings.map((w, i) => <div key={i} className="error">{w.message ?? w.code}</div>)}
            </div>
          ))}
        </>
      ) : null}
    </Card>
  );
}
