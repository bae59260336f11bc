import { randomBytes } from "node:crypto";
import { mkdir, open, rm } from "node:fs/promises";
import { join } from "node:path";
import { commitVersion, formatIssue, readJsonlFile, validateEntries, type DatasetRecord } from "../../data/index.js";
import { NotFoundError, UsageError } from "../../errors/index.js";
import type { Artifact, Workspace } from "../../registry/index.js";
import { boundaryOf, readMultipart } from "./multipart.js";
import { page, toUnixSeconds, type ListEnvelope } from "./pagination.js";

/** OpenAI's `file` object (openai SDK `FileObject`). */
export interface FileObject {
  id: string;
  object: "file";
  bytes: number;
  created_at: number;
  filename: string;
  purpose: string;
  status: "processed";
  expires_at: null;
  status_details: null;
}

/** Artifact kind of files uploaded through, or produced for, the fine-tuning API. */
export const FILE_ARTIFACT_KIND = "openai-file";

/** What an uploaded fine-tune file holds: OpenAI's chat format (supervised jobs) or its preference format (dpo jobs). */
export type FileFormat = "chat" | "preference";

interface FileMeta {
  filename: string;
  purpose: string;
  /** The dataset version an uploaded training file was imported as. */
  datasetVersionId?: string;
  /** Absent on files uploaded before preference files were accepted: those are chat files. */
  format?: FileFormat;
}

/** `file-…` ids are the artifact ids with OpenAI's prefix, so nothing but the artifact table is needed. */
export function fileIdOf(artifact: Pick<Artifact, "id">): string {
  return `file-${artifact.id.replace(/^art_/, "")}`;
}

/**
 * The Files API over the artifact store. An upload streams to a temp file, is validated with the rules of
 * `tunekit data validate --target openai` (or `--target openai-dpo` when its first record is a preference pair,
 * OpenAI's DPO format; the purpose is fine-tune for both, as on OpenAI), and only when valid becomes an artifact and a dataset version
 * (transform import, lineage to the file): a rejected upload leaves nothing behind.
 */
export class FineTuningFiles {
  constructor(private readonly ws: Workspace, private readonly maxBytes: number) {}

  async upload(req: AsyncIterable<Buffer>, contentType: string | undefined): Promise<FileObject> {
    const boundary = boundaryOf(contentType);
    await mkdir(join(this.ws.stateDir, "tmp"), { recursive: true });
    const tmp = join(this.ws.stateDir, "tmp", `upload-${randomBytes(8).toString("hex")}.jsonl`);
    const handle = await open(tmp, "w", 0o600);
    try {
      const parts = await readMultipart(req, boundary, () => ({ write: async (chunk) => void (await handle.write(chunk)) }), this.maxBytes);
      await handle.close();
      const purpose = parts.fields.purpose;
      if (purpose !== "fine-tune") {
        throw new UsageError("FT_FILE_BAD_PURPOSE", `purpose ${JSON.stringify(purpose ?? "(missing)")} is not supported here`, {
          fix: "upload training and validation files with purpose 'fine-tune'",
          details: { param: "purpose" },
        });
      }
      if (!parts.file) throw new UsageError("FT_FILE_MISSING", "the upload has no file part", { fix: "send the JSONL file in the multipart field `file`", details: { param: "file" } });
      const { filename } = parts.file;
      const format = await formatOf(tmp);
      await this.validate(tmp, filename, format);
      const version = await commitVersion(this.ws, {
        dataset: datasetNameFor(filename),
        description: `uploaded through POST /v1/files`,
        transform: "import",
        params: { source: "POST /v1/files", filename, bytes: parts.file.bytes },
        records: records(tmp),
      });
      const meta: FileMeta = { filename, purpose, datasetVersionId: version.id, format };
      return toFileObject(await this.ws.artifacts.putFile(tmp, { kind: FILE_ARTIFACT_KIND, ext: "jsonl", meta: { ...meta } }));
    } finally {
      await handle.close().catch(() => undefined);
      await rm(tmp, { force: true });
    }
  }

  /** Every problem counted, the first named with its line: what a user fixes first. */
  private async validate(path: string, filename: string, format: FileFormat): Promise<void> {
    const target = format === "preference" ? "openai-dpo" : "openai";
    const summary = await validateEntries(readJsonlFile(path), { target, maxIssues: 20 });
    if (summary.ok) return;
    const errors = summary.issues.filter((i) => i.severity === "error");
    const first = errors[0];
    const more = summary.errors - 1;
    // A 400 (not the boundary's 422 for data), as OpenAI answers an invalid training file.
    throw new UsageError("FT_FILE_INVALID", `${filename} is not a valid fine-tuning file: ${first ? formatIssue(first, false) : "it has errors"}${more > 0 ? ` (and ${more} more problem${more === 1 ? "" : "s"})` : ""}`, {
      fix: first ? `${first.fix}; \`tunekit data validate FILE --target ${target}\` lists every problem` : `run \`tunekit data validate FILE --target ${target}\``,
      details: { param: "file", line: first?.line ?? null, issues: errors.slice(0, 20) },
    });
  }

  /** A CSV produced by a job (its step metrics), stored as a `fine-tune-results` file of that run. */
  async putResultFile(runId: string, csv: string): Promise<FileObject> {
    const meta: FileMeta = { filename: "step_metrics.csv", purpose: "fine-tune-results" };
    return toFileObject(await this.ws.artifacts.putBytes(csv, { kind: FILE_ARTIFACT_KIND, ext: "csv", runId, meta: { ...meta } }));
  }

  async resultFilesOf(runId: string): Promise<string[]> {
    return (await this.ws.artifacts.listArtifacts({ runId, kind: FILE_ARTIFACT_KIND })).map(fileIdOf);
  }

  async artifactOf(id: string, param = "file_id"): Promise<Artifact> {
    const artifact = /^file-[0-9a-z]+$/.test(id) ? await this.ws.artifacts.getArtifact(`art_${id.slice(5)}`).catch(() => null) : null;
    if (!artifact || artifact.kind !== FILE_ARTIFACT_KIND) {
      throw new NotFoundError("FT_FILE_NOT_FOUND", `No such File object: ${id}`, { fix: "use an id returned by POST /v1/files (GET /v1/files lists them)", details: { param } });
    }
    return artifact;
  }

  async get(id: string): Promise<FileObject> {
    return toFileObject(await this.artifactOf(id));
  }

  /** The dataset version an uploaded file became (training and validation files of a job), and what it holds. */
  async versionOf(id: string, param: string): Promise<{ versionId: string; format: FileFormat; filename: string }> {
    const artifact = await this.artifactOf(id, param);
    const meta = artifact.meta as unknown as FileMeta;
    if (meta.purpose !== "fine-tune" || !meta.datasetVersionId) {
      throw new UsageError("FT_FILE_BAD_PURPOSE", `file ${id} has purpose ${meta.purpose}; a job trains on files uploaded with purpose 'fine-tune'`, {
        fix: "upload the training data with purpose 'fine-tune'",
        details: { param },
      });
    }
    return { versionId: meta.datasetVersionId, format: meta.format ?? "chat", filename: meta.filename };
  }

  /** The bytes GET /v1/files/{id}/content serves: result files base64-encoded, as OpenAI's API serves them. */
  async content(id: string): Promise<{ path: string; base64: boolean }> {
    const artifact = await this.artifactOf(id);
    return { path: this.ws.artifacts.absolutePath(artifact), base64: (artifact.meta as unknown as FileMeta).purpose === "fine-tune-results" };
  }

  async list(query: URLSearchParams): Promise<ListEnvelope<FileObject>> {
    const purpose = query.get("purpose");
    const order = query.get("order") === "asc" ? 1 : -1;
    const files = (await this.ws.artifacts.listArtifacts({ kind: FILE_ARTIFACT_KIND }))
      .filter((a) => !purpose || (a.meta as unknown as FileMeta).purpose === purpose)
      .sort((a, b) => order * (a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id)))
      .map(toFileObject);
    return page(files, query, 10_000);
  }
}

function toFileObject(a: Artifact): FileObject {
  const meta = a.meta as unknown as FileMeta;
  return { id: fileIdOf(a), object: "file", bytes: a.size, created_at: toUnixSeconds(a.createdAt), filename: meta.filename, purpose: meta.purpose, status: "processed", expires_at: null, status_details: null };
}

/**
 * train.jsonl → dataset "upload-train": uploads of the same file name become versions of one dataset, and the
 * prefix keeps them out of the user's own datasets (an upload must never become the latest version of those).
 */
export function datasetNameFor(filename: string): string {
  const stem = filename.replace(/^.*[\\/]/, "").replace(/\.[^.]*$/, "").replace(/[^A-Za-z0-9._-]+/g, "-").slice(0, 57);
  return `upload-${stem || "file"}`;
}

/** A supervised job trains on chat files, a dpo job on preference files: the other is OpenAI's 400, naming the file. */
export function assertFileFitsMethod(method: "supervised" | "dpo", format: FileFormat, id: string, filename: string, param: string): void {
  const wanted: FileFormat = method === "dpo" ? "preference" : "chat";
  if (format === wanted) return;
  const holds = format === "preference" ? "preference pairs (input, preferred_output, non_preferred_output)" : "chat examples (messages)";
  const trains = method === "dpo" ? "preference pairs ({input: {messages}, preferred_output, non_preferred_output})" : "chat examples ({messages: [...]})";
  throw new UsageError("FT_FILE_METHOD_MISMATCH", `${param} ${id} (${filename}) holds ${holds}, but method "${method}" trains on ${trains}`, {
    fix: format === "preference" ? "send method: {type: 'dpo'} to train on preference pairs, or upload a chat-format file" : "send method: {type: 'supervised'} (or leave method out) to train on chat examples, or upload a preference-format file",
    details: { param },
  });
}

/** The format of a file is its first record's: a preference pair or not (the validation then checks every line). */
async function formatOf(path: string): Promise<FileFormat> {
  for await (const entry of readJsonlFile(path)) {
    const value = entry.value as Record<string, unknown> | undefined;
    if (entry.problem || !value || typeof value !== "object" || Array.isArray(value)) continue;
    return "preferred_output" in value || "non_preferred_output" in value || ("input" in value && !("messages" in value)) ? "preference" : "chat";
  }
  return "chat";
}

async function* records(path: string): AsyncGenerator<DatasetRecord> {
  for await (const entry of readJsonlFile(path)) if (!entry.problem) yield entry.value as unknown as DatasetRecord;
}
