import { createWriteStream, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import OpenAI from "openai";
import { commitVersion, prepareImport, readVersion, splitDataset, type DatasetRecord } from "../data/index.js";
import { ConflictError, DataError, NotFoundError, UsageError } from "../errors/index.js";
import { readApiKey, toProviderError } from "../providers/index.js";
import type { DatasetVersion, Workspace } from "../registry/index.js";

/**
 * The hosted side of a migration: the OpenAI fine-tuning job read through the official SDK (base URL
 * configurable, so the fixture server and compatible APIs work), and its training / validation files imported
 * as dataset versions whose params name the job and file they came from.
 */
export interface OpenAiAccess {
  baseURL?: string;
  /** Env var holding the key (the key is never stored). */
  apiKeyEnv: string;
  env?: NodeJS.ProcessEnv;
}

export interface HostedJob {
  id: string;
  status: string;
  baseModel: string;
  fineTunedModel: string;
  trainingFile: string;
  validationFile: string | null;
  method: string;
  /** Resolved values ("auto" only when the API did not resolve them). */
  hyperparameters: { nEpochs: number | "auto"; batchSize: number | "auto"; learningRateMultiplier: number | "auto" };
  seed: number | null;
  trainedTokens: number | null;
}

export function openAiClient(access: OpenAiAccess): OpenAI {
  return new OpenAI({ apiKey: readApiKey("openai", access.apiKeyEnv, access.env), baseURL: access.baseURL, maxRetries: 2 });
}

const JOB_ID = /^ftjob-[A-Za-z0-9_-]+$/;

export async function readHostedJob(access: OpenAiAccess, jobId: string): Promise<HostedJob> {
  if (!JOB_ID.test(jobId)) {
    throw new UsageError("MIGRATE_BAD_JOB_ID", `"${jobId}" is not an OpenAI fine-tuning job id`, {
      fix: "pass the job id from https://platform.openai.com/finetune or `openai api fine_tuning.jobs.list`, e.g. --from-openai-job ftjob-abc123",
    });
  }
  const client = openAiClient(access);
  let job: Awaited<ReturnType<OpenAI["fineTuning"]["jobs"]["retrieve"]>>;
  try {
    job = await client.fineTuning.jobs.retrieve(jobId);
  } catch (error) {
    if (error instanceof OpenAI.APIError && error.status === 404) {
      throw new NotFoundError("MIGRATE_JOB_NOT_FOUND", `OpenAI has no fine-tuning job ${jobId} for this API key${access.baseURL ? ` at ${access.baseURL}` : ""}`, {
        fix: `check the id, and that ${access.apiKeyEnv} holds a key of the organization and project that ran the job`,
      });
    }
    throw toProviderError("openai", error, `reading fine-tuning job ${jobId}`);
  }
  if (job.status !== "succeeded" || !job.fine_tuned_model) {
    throw new ConflictError("MIGRATE_JOB_NOT_SUCCEEDED", `fine-tuning job ${jobId} is ${job.status}${job.error?.message ? ` (${job.error.message})` : ""}; only a succeeded job has a model to migrate from`, {
      fix: job.status === "failed" || job.status === "cancelled" ? "migrate a succeeded job (the old model is needed as the reference in the comparison)" : "wait until the job has succeeded, then run tunekit migrate again",
      details: { jobId, status: job.status },
    });
  }
  const method = job.method?.type ?? "supervised";
  const hp = ((job.method as Record<string, { hyperparameters?: Record<string, unknown> }> | undefined)?.[method]?.hyperparameters ?? job.hyperparameters ?? {}) as Record<string, unknown>;
  const num = (v: unknown): number | "auto" => (typeof v === "number" && Number.isFinite(v) ? v : "auto");
  return {
    id: job.id,
    status: job.status,
    baseModel: job.model,
    fineTunedModel: job.fine_tuned_model,
    trainingFile: job.training_file,
    validationFile: job.validation_file ?? null,
    method,
    hyperparameters: { nEpochs: num(hp.n_epochs), batchSize: num(hp.batch_size), learningRateMultiplier: num(hp.learning_rate_multiplier) },
    seed: job.seed ?? null,
    trainedTokens: job.trained_tokens ?? null,
  };
}

/** Streams a file's content to `path` (the importer reads paths). */
async function downloadFile(client: OpenAI, job: HostedJob, fileId: string, path: string): Promise<void> {
  let response: Response;
  try {
    response = await client.files.content(fileId);
  } catch (error) {
    if (error instanceof OpenAI.APIError && error.status === 404) {
      throw new NotFoundError("MIGRATE_JOB_FILE_MISSING", `the file ${fileId} of job ${job.id} is no longer in the OpenAI account (it was deleted)`, {
        fix: "its records cannot be read back: if you kept the JSONL, import it with `tunekit data import FILE` and train with `tunekit train`; otherwise migrate a job whose files still exist",
        details: { jobId: job.id, fileId },
      });
    }
    throw toProviderError("openai", error, `downloading file ${fileId}`);
  }
  if (!response.body) throw new DataError("MIGRATE_JOB_FILE_EMPTY", `the file ${fileId} of job ${job.id} has no content`, { fix: "check the file in the OpenAI dashboard (Storage → Files)" });
  await pipeline(Readable.fromWeb(response.body as unknown as WebReadableStream), createWriteStream(path));
}

export interface ImportedJobFiles {
  /** The training file (split train), then the validation file as the held-out test split. */
  training: DatasetVersion;
  heldOut: DatasetVersion;
}

/** A job's files in a temporary folder, each with the count of records the importer will keep. */
export interface DownloadedJobFiles {
  files: { id: string; split: "train" | "test"; path: string; importable: number; rejected: number }[];
  /** Removes the folder (idempotent). */
  dispose(): void;
}

/** Records of a JSONL file that the importer keeps (and the lines it rejects), read the way the import reads it. */
export async function countImportable(path: string): Promise<{ importable: number; rejected: number }> {
  const prepared = await prepareImport([path], { format: "jsonl" });
  // Drained for the report's counts; the commit reads the file again (it is local, and usually small).
  for await (const _record of prepared.records()) continue;
  return { importable: prepared.report.imported, rejected: prepared.report.rejected };
}

/** Both files downloaded and counted; nothing is written to the workspace. */
export async function downloadJobFiles(access: OpenAiAccess, job: HostedJob): Promise<DownloadedJobFiles> {
  const client = openAiClient(access);
  const dir = mkdtempSync(join(tmpdir(), "tk-migrate-"));
  const dispose = () => rmSync(dir, { recursive: true, force: true });
  try {
    const files: DownloadedJobFiles["files"] = [];
    for (const f of [{ id: job.trainingFile, split: "train" as const }, ...(job.validationFile ? [{ id: job.validationFile, split: "test" as const }] : [])]) {
      const path = join(dir, `${f.id}.jsonl`);
      await downloadFile(client, job, f.id, path);
      files.push({ ...f, path, ...(await countImportable(path)) });
    }
    return { files, dispose };
  } catch (error) {
    dispose();
    throw error;
  }
}

/**
 * Refuses, before anything is committed, files too small to migrate: the comparison needs at least 2 held-out
 * records (a paired difference and its CI need two), and training needs at least 1. Without a validation file
 * the 2 are split off the training file, so it needs 4 (2 held out, at least 2 left to train on).
 */
export function assertEnoughRecords(job: HostedJob, downloaded: DownloadedJobFiles): void {
  type File = DownloadedJobFiles["files"][number];
  const training = downloaded.files.find((f) => f.split === "train") as File;
  const validation = downloaded.files.find((f) => f.split === "test");
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;
  const refuse = (f: File, needed: number, why: string, fix: string): DataError => {
    const role = f.split === "train" ? "training_file" : "validation_file";
    const counted = `${plural(f.importable, "importable record")}${f.rejected ? ` (${plural(f.rejected, "line")} rejected)` : ""}`;
    // Rejected lines are the usual reason a file is shorter than it looks; the importer's rules say why.
    const hint = f.rejected ? `; to see why lines were rejected, download ${f.id} and run \`tunekit data validate\` on it` : "";
    return new DataError("MIGRATE_TOO_FEW_RECORDS", `the ${role.replace("_", " ")} ${f.id} of job ${job.id} has ${counted}${why}; nothing was written`, {
      fix: fix + hint,
      details: { jobId: job.id, fileId: f.id, role, importable: f.importable, rejected: f.rejected, needed },
    });
  };
  if (validation && validation.importable < 2) {
    throw refuse(validation, 2, ": the comparison holds it out as the test set and needs at least 2", "migrate a job whose validation file has at least 2 valid chat records");
  }
  if (!validation && training.importable < 4) {
    throw refuse(training, 4, " and the job no validation file: too few to hold 2 out for the comparison and train on the rest (at least 4)", "migrate a job with a validation file, or one with at least 4 training records");
  }
  if (training.importable < 1) throw refuse(training, 1, ": nothing to train on", "migrate a job whose training file has valid chat records");
}

/**
 * Version 1: the training file, every record marked split train. Version 2 (parent 1): the same plus the
 * validation file as split test. The old model never trained on its validation file, so it is a fair
 * held-out set for old and new alike. A job without a validation file gets a seeded 10% of the training
 * file as test (at least 2 records), through the data stage's split with its leakage check. Both files are
 * downloaded and counted before any version is written, so a missing file or too few records leaves the
 * registry as it was.
 */
export async function importJobFiles(ws: Workspace, access: OpenAiAccess, job: HostedJob, dataset: string, seed = 42): Promise<ImportedJobFiles> {
  const downloaded = await downloadJobFiles(access, job);
  try {
    assertEnoughRecords(job, downloaded);
    return await commitJobFiles(ws, job, downloaded, dataset, seed);
  } finally {
    downloaded.dispose();
  }
}

/** The versions of importJobFiles from files already downloaded and checked by assertEnoughRecords. */
export async function commitJobFiles(ws: Workspace, job: HostedJob, downloaded: DownloadedJobFiles, dataset: string, seed = 42): Promise<ImportedJobFiles> {
  const tagged = async function* (records: AsyncIterable<DatasetRecord>, split: string, fileId: string): AsyncGenerator<DatasetRecord> {
    for await (const r of records) yield { ...r, metadata: { ...(r.metadata ?? {}), split, source: "openai-file", openai_file: fileId } } as DatasetRecord;
  };
  const versions: DatasetVersion[] = [];
  for (const f of downloaded.files) {
    const prepared = await prepareImport([f.path], { format: "jsonl" });
    const from = versions.at(-1);
    const records = async function* () {
      if (from) yield* readVersion(ws, from);
      yield* tagged(prepared.records(), f.split, f.id);
    };
    const version = await commitVersion(ws, {
      dataset,
      description: `imported from OpenAI fine-tuning job ${job.id} (${job.fineTunedModel})`,
      parent: from,
      transform: from ? "import-validation" : "import",
      params: { source: "openai", jobId: job.id, fileId: f.id, role: f.split === "train" ? "training_file" : "validation_file", baseModel: job.baseModel, fineTunedModel: job.fineTunedModel },
      records: records(),
      report: () => ({ ...prepared.report, files: prepared.report.files.map((x) => ({ ...x, file: f.id })) }),
    });
    versions.push(version);
  }
  const [training, withValidation] = versions;
  return { training, heldOut: withValidation ?? (await splitTestFrom(ws, dataset, training, seed)) };
}

async function splitTestFrom(ws: Workspace, dataset: string, training: DatasetVersion, seed: number): Promise<DatasetVersion> {
  // At least 2 held-out records: a paired comparison (and its CI) needs two. assertEnoughRecords made sure
  // the training file has 4 or more.
  const test = Math.max(2, Math.round(training.recordCount * 0.1));
  const split = await splitDataset(() => readVersion(ws, training), { seed, counts: { val: 0, test } });
  return commitVersion(ws, { dataset, parent: training, transform: "split", params: split.plan.options, records: split.records(), report: () => ({ ...split.report }) });
}
