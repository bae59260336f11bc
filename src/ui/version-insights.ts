import { isAbsolute, resolve } from "node:path";
import { binIntegers } from "../report/index.js";
import { collectStats, PiiScanner, readVersion, type DatasetStats, type PiiFinding, type PiiReport, type DatasetRecord } from "../data/index.js";
import type { DatasetVersion, Run, Workspace } from "../registry/index.js";
import { loadChatTemplate, loadTokenizer, previewExamples, type PreviewExample } from "../tokenize/index.js";

/**
 * What the Datasets page shows about a version, computed from the version's records by the library (stats,
 * PII, loss-mask preview) and cached by version id: versions are immutable, so a cached answer never goes stale.
 */
export type VersionStatsView = Omit<DatasetStats, "exampleTokens"> & { tokenHistogram: { from: number; to: number; count: number }[] };

export interface PiiView {
  report: PiiReport;
  findings: PiiFinding[];
  findingsOmitted: number;
}

const MAX_FINDINGS = 500;
const statsCache = new Map<string, Promise<VersionStatsView>>();
const piiCache = new Map<string, Promise<PiiView>>();

function cached<T>(cache: Map<string, Promise<T>>, key: string, make: () => Promise<T>): Promise<T> {
  let p = cache.get(key);
  if (!p) {
    p = make();
    cache.set(key, p);
    p.catch(() => cache.delete(key));
  }
  return p;
}

export function versionStats(ws: Workspace, version: DatasetVersion): Promise<VersionStatsView> {
  return cached(statsCache, `${ws.root}:${version.id}`, async () => {
    const { exampleTokens, ...stats } = await collectStats(readVersion(ws, version));
    return { ...stats, tokenHistogram: binIntegers(exampleTokens) };
  });
}

/** The version's PII scan (detect mode: nothing changes); findings are locations and types, never values. */
export function versionPii(ws: Workspace, version: DatasetVersion): Promise<PiiView> {
  return cached(piiCache, `${ws.root}:${version.id}`, async () => {
    const scanner = new PiiScanner({ mode: "detect", maxSamples: 5 });
    const findings: PiiFinding[] = [];
    let omitted = 0;
    for await (const record of readVersion(ws, version)) {
      for (const f of scanner.process(record).findings) {
        if (findings.length < MAX_FINDINGS) findings.push(f);
        else omitted++;
      }
    }
    return { report: scanner.report, findings, findingsOmitted: omitted };
  });
}

export interface LineageNode {
  id: string;
  kind: "version" | "run" | "model";
  label: string;
  detail: string;
  dataset?: string;
  status?: string;
}

export interface LineageGraph {
  nodes: LineageNode[];
  edges: { from: string; to: string; label: string }[];
}

/** Versions of a dataset (and parents in other datasets), the runs that used them and the models they made. */
export async function lineageGraph(ws: Workspace, versions: readonly DatasetVersion[], runs: readonly Run[]): Promise<LineageGraph> {
  const nodes = new Map<string, LineageNode>();
  const edges: LineageGraph["edges"] = [];
  const addVersion = (v: DatasetVersion) =>
    nodes.set(v.id, { id: v.id, kind: "version", label: `${v.datasetName}@${v.number}`, detail: `${v.transform} · ${v.recordCount.toLocaleString("en-US")} records`, dataset: v.datasetName });
  for (const v of versions) addVersion(v);
  for (const v of versions) {
    if (!v.parentId) continue;
    if (!nodes.has(v.parentId)) addVersion(await ws.registry.getDatasetVersion(v.parentId));
    edges.push({ from: v.parentId, to: v.id, label: v.transform });
  }
  const models = await ws.registry.listModels();
  for (const run of runs) {
    if (!run.datasetVersionId || !nodes.has(run.datasetVersionId)) continue;
    nodes.set(run.id, { id: run.id, kind: "run", label: run.name ?? run.id, detail: `${run.kind} · ${run.status}`, status: run.status });
    edges.push({ from: run.datasetVersionId, to: run.id, label: run.kind });
    for (const m of models.filter((x) => x.runId === run.id)) {
      nodes.set(m.id, { id: m.id, kind: "model", label: m.name, detail: `${m.kind} · ${m.provider}` });
      edges.push({ from: run.id, to: m.id, label: "model" });
    }
  }
  return { nodes: [...nodes.values()], edges };
}

export interface PreviewRequest {
  model: string;
  count: number;
  seqLen?: number;
  trainOn: "assistant" | "all";
  template?: string;
  offset: number;
}

/** The loss-mask preview of records [offset, offset+count) for a model folder (relative to the workspace) or a registered model. */
export async function versionPreview(ws: Workspace, version: DatasetVersion, req: PreviewRequest): Promise<{ modelDir: string; examples: PreviewExample[] }> {
  let modelDir = isAbsolute(req.model) ? req.model : resolve(ws.root, req.model);
  const registered = (await ws.registry.listModels()).find((m) => m.name === req.model || m.id === req.model);
  if (registered?.path) modelDir = registered.path;
  const tokenizer = loadTokenizer(modelDir);
  const template = loadChatTemplate(tokenizer, { template: req.template });
  const records: DatasetRecord[] = [];
  let index = 0;
  for await (const record of readVersion(ws, version)) {
    if (index++ < req.offset) continue;
    records.push(record);
    if (records.length >= req.count) break;
  }
  const examples = await previewExamples(records, tokenizer, template, { count: req.count, seqLen: req.seqLen, trainOn: req.trainOn });
  return { modelDir, examples: examples.map((e) => ({ ...e, index: e.index + req.offset })) };
}
