import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import type { DatasetVersion, Workspace } from "../registry/index.js";
import { DataError } from "../errors/index.js";
import { canonicalJson } from "./canonical-json.js";
import { readJsonlStream } from "./jsonl.js";
import type { DatasetRecord } from "./record.js";

/**
 * Dataset versions: every transform writes its records as canonical JSONL into the artifact store and records
 * an immutable version row (sha256 of the canonical bytes, parent, transform, params, counts, report).
 */
export interface CommitVersionInput {
  dataset: string;
  description?: string;
  parent?: DatasetVersion;
  transform: string;
  params: Record<string, unknown>;
  records: AsyncIterable<DatasetRecord>;
  /** Called after all records were consumed; lets a transform fill in its report from counts it kept. */
  report?: Record<string, unknown> | (() => Record<string, unknown>);
  stats?: Record<string, unknown>;
}

const FLUSH_BYTES = 1 << 20;

export async function commitVersion(ws: Pick<Workspace, "registry" | "artifacts">, input: CommitVersionInput): Promise<DatasetVersion> {
  const writer = await ws.artifacts.createWriter({ kind: "dataset", ext: "jsonl", meta: { dataset: input.dataset, transform: input.transform } });
  try {
    const hash = createHash("sha256");
    let count = 0;
    let batch = "";
    for await (const record of input.records) {
      batch += canonicalJson(record) + "\n";
      count += 1;
      if (batch.length >= FLUSH_BYTES) {
        const bytes = Buffer.from(batch);
        hash.update(bytes);
        await writer.write(bytes);
        batch = "";
      }
    }
    if (batch.length > 0) {
      const bytes = Buffer.from(batch);
      hash.update(bytes);
      await writer.write(bytes);
    }
    if (count === 0) {
      throw new DataError("DATA_EMPTY_VERSION", `${input.transform} produced no valid records for dataset "${input.dataset}"; nothing was written`, {
        fix: "check the report of problems above: every record was rejected or the input is empty",
        details: { report: typeof input.report === "function" ? input.report() : input.report },
      });
    }
    const artifact = await writer.commit();
    const sha256 = hash.digest("hex");
    const dataset = (await ws.registry.findDataset(input.dataset)) ?? (await ws.registry.createDataset({ name: input.dataset, description: input.description }));
    return await ws.registry.addDatasetVersion({
      datasetId: dataset.id,
      parentId: input.parent?.id ?? null,
      transform: input.transform,
      params: input.params,
      sha256,
      artifactId: artifact.id,
      recordCount: count,
      stats: input.stats ?? null,
      report: typeof input.report === "function" ? input.report() : (input.report ?? null),
    });
  } finally {
    await writer.abort();
  }
}

/** The records of a version ("name", "name@N" or a version id), streamed from its artifact. */
export async function resolveVersion(ws: Pick<Workspace, "registry">, ref: string): Promise<DatasetVersion> {
  return ws.registry.resolveDatasetVersion(ref);
}

export async function* readVersion(ws: Pick<Workspace, "registry" | "artifacts">, ref: string | DatasetVersion): AsyncGenerator<DatasetRecord> {
  const version = typeof ref === "string" ? await ws.registry.resolveDatasetVersion(ref) : ref;
  const artifact = await ws.artifacts.getArtifact(version.artifactId);
  const path = ws.artifacts.absolutePath(artifact);
  const reader = readJsonlStream(() => createReadStream(path, { highWaterMark: 1 << 20 }), { maxLineBytes: Number.MAX_SAFE_INTEGER });
  for await (const entry of reader) {
    if (entry.problem) {
      throw new DataError("DATA_VERSION_CORRUPT", `dataset version ${version.datasetName}@${version.number} is corrupt at ${entry.problem.message}`, {
        fix: `the artifact ${artifact.path} was modified outside tunekit; re-create the version from its parent`,
      });
    }
    yield entry.value as unknown as DatasetRecord;
  }
}

/** The stable identity of a record for diffing: metadata.id when present, else its content hash. */
export function recordKey(record: DatasetRecord): { key: string; byId: boolean; hash: string } {
  const hash = createHash("sha256").update(canonicalJson(record)).digest("base64url").slice(0, 22);
  const id = (record.metadata as Record<string, unknown> | undefined)?.id;
  if (typeof id === "string" || typeof id === "number") return { key: `id:${id}`, byId: true, hash };
  return { key: `h:${hash}`, byId: false, hash };
}
