import { z } from "zod";
import { diffVersions, readVersion } from "../data/index.js";
import { UsageError } from "../errors/index.js";
import type { Workspace } from "../registry/index.js";
import type { DatasetDetailResponse, DatasetListResponse, PreviewResponse, RecordPageResponse, VersionDiffResponse, VersionPiiResponse, VersionResponse, VersionStatsResponse } from "./api-types.js";
import { intParam, parseBody, type Route } from "./http.js";
import { browseRecords } from "./record-browser.js";
import { lineageGraph, versionPii, versionPreview, versionStats } from "./version-insights.js";

/** Datasets: list, versions with lineage, stats, the record browser, PII findings, the loss-mask preview. */
async function version(ws: Workspace, ref: string) {
  return ws.registry.resolveDatasetVersion(ref);
}

const PreviewBodySchema = z.strictObject({
  model: z.string().min(1),
  count: z.number().int().min(1).max(20).default(3),
  offset: z.number().int().min(0).default(0),
  seqLen: z.number().int().min(2).optional(),
  trainOn: z.enum(["assistant", "all"]).default("assistant"),
  template: z.string().min(1).optional(),
});

export const datasetRoutes: Route[] = [
  {
    method: "GET",
    pattern: "/api/datasets",
    handler: async ({ ws }): Promise<DatasetListResponse> => {
      const datasets = await ws.registry.listDatasets();
      return {
        datasets: await Promise.all(
          datasets.map(async (d) => {
            const versions = await ws.registry.listDatasetVersions(d.id);
            const latest = versions[versions.length - 1];
            return { ...d, versions: versions.length, latest: latest ? { id: latest.id, number: latest.number, recordCount: latest.recordCount, createdAt: latest.createdAt } : null };
          }),
        ),
      };
    },
  },
  {
    method: "GET",
    pattern: "/api/datasets/:name",
    handler: async ({ ws, params }): Promise<DatasetDetailResponse> => {
      const dataset = await ws.registry.getDataset(params.name);
      const versions = await ws.registry.listDatasetVersions(dataset.id);
      const runs = await ws.registry.listRuns({});
      return { dataset, versions, lineage: await lineageGraph(ws, versions, runs) };
    },
  },
  {
    method: "GET",
    pattern: "/api/versions/:ref",
    handler: async ({ ws, params }): Promise<VersionResponse> => ({ version: await version(ws, params.ref) }),
  },
  {
    method: "GET",
    pattern: "/api/versions/:ref/stats",
    handler: async ({ ws, params }): Promise<VersionStatsResponse> => ({ stats: await versionStats(ws, await version(ws, params.ref)) }),
  },
  {
    method: "GET",
    pattern: "/api/versions/:ref/pii",
    handler: async ({ ws, params }): Promise<VersionPiiResponse> => versionPii(ws, await version(ws, params.ref)),
  },
  {
    method: "GET",
    pattern: "/api/versions/:ref/records",
    handler: async ({ ws, params, query, signal }): Promise<RecordPageResponse> => {
      const v = await version(ws, params.ref);
      const filters: Record<string, string> = {};
      for (const f of query.getAll("filter")) {
        const at = f.indexOf(":");
        if (at <= 0) throw new UsageError("UI_QUERY_INVALID", `filter=${JSON.stringify(f)} is not KEY:VALUE`, { fix: "pass filter=split:test (repeatable)" });
        filters[f.slice(0, at)] = f.slice(at + 1);
      }
      const page = await browseRecords(readVersion(ws, v), {
        offset: intParam(query, "offset", 0, 0, Number.MAX_SAFE_INTEGER),
        limit: intParam(query, "limit", 25, 1, 500),
        search: query.get("q")?.trim() || undefined,
        filters,
      }, signal);
      return { version: { id: v.id, ref: `${v.datasetName}@${v.number}` }, ...page };
    },
  },
  {
    method: "GET",
    pattern: "/api/versions/:ref/diff/:other",
    handler: async ({ ws, params }): Promise<VersionDiffResponse> => {
      const [before, after] = [await version(ws, params.other), await version(ws, params.ref)];
      return { diff: await diffVersions(() => readVersion(ws, before), () => readVersion(ws, after)) };
    },
  },
  {
    method: "POST",
    pattern: "/api/versions/:ref/preview",
    handler: async ({ ws, params, body }): Promise<PreviewResponse> => versionPreview(ws, await version(ws, params.ref), parseBody(PreviewBodySchema, body, "preview request")),
  },
];
