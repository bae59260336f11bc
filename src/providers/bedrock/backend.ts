import { createReadStream, statSync } from "node:fs";
import {
  BedrockClient,
  CreateModelCustomizationJobCommand,
  GetModelCustomizationJobCommand,
  StopModelCustomizationJobCommand,
  type CreateModelCustomizationJobCommandInput,
  type GetModelCustomizationJobResponse,
} from "@aws-sdk/client-bedrock";
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import type { AwsCredentialIdentity } from "@aws-sdk/types";
import { ConfigError } from "../../errors/index.js";
import { callProvider } from "../errors.js";
import { parseMetricsCsv } from "../metrics-csv.js";
import type { BedrockOptions } from "../spec.js";
import type { FineTuneBackend, JobCheckpoint, JobEvent, JobMetric, JobState, JobStatus, SubmitInput, SubmitResult } from "../types.js";
import { bedrockFamilyOf, hyperparameterProblems } from "./base-models.js";

/**
 * Model customization on Amazon Bedrock (Claude 3 Haiku, Amazon Nova, Meta Llama; base-models.ts): JSONL uploaded to S3, CreateModelCustomizationJob
 * (FINE_TUNING, hyperparameters as strings), GetModelCustomizationJob polling, StopModelCustomizationJob, and
 * the step-wise metrics CSVs Bedrock writes under the output S3 URI. Bedrock has no event or checkpoint API:
 * events are derived from the job's statusDetails stages; checkpoints are empty. Credentials come from the
 * AWS default chain (env, profile, SSO, instance role) and are never read into tunekit's config.
 */
const STATUS: Record<string, JobStatus> = { InProgress: "running", Completed: "succeeded", Failed: "failed", Stopping: "running", Stopped: "cancelled" };

export interface BedrockBackendOptions {
  options: BedrockOptions;
  epochs?: number;
  /** Tests inject static credentials; otherwise the AWS default provider chain is used. */
  credentials?: AwsCredentialIdentity;
  maxAttempts?: number;
}

export function parseS3Uri(uri: string): { bucket: string; prefix: string } {
  const m = /^s3:\/\/([^/]+)\/?(.*)$/.exec(uri);
  if (!m) throw new ConfigError("PROVIDER_BEDROCK_S3_URI_INVALID", `"${uri}" is not an S3 URI`, { fix: "set hosted.bedrock.s3Uri: s3://my-bucket/tunekit/" });
  return { bucket: m[1], prefix: m[2] && !m[2].endsWith("/") ? `${m[2]}/` : m[2] };
}

/** The last ARN segment: the job id Bedrock uses in output paths. */
export function jobIdFromArn(arn: string): string {
  return arn.split("/").pop() ?? arn;
}

/** The region of a Bedrock ARN (arn:aws:bedrock:REGION:ACCOUNT:…), so a job is always read where it was created. */
export function regionFromArn(arn: string): string | undefined {
  return /^arn:aws[a-z-]*:bedrock:([a-z0-9-]+):/.exec(arn)?.[1];
}

export class BedrockBackend implements FineTuneBackend {
  readonly provider = "bedrock" as const;
  // One client pair per region: the region follows the base model (Nova and Claude are customized in different
  // regions) unless hosted.bedrock.region pins it.
  private readonly clients = new Map<string, { bedrock: BedrockClient; s3: S3Client }>();

  constructor(private readonly config: BedrockBackendOptions) {}

  private client(region: string): { bedrock: BedrockClient; s3: S3Client } {
    let c = this.clients.get(region);
    if (!c) {
      const o = this.config.options;
      const common = { region, maxAttempts: this.config.maxAttempts ?? 3, ...(this.config.credentials ? { credentials: this.config.credentials } : {}) };
      c = {
        bedrock: new BedrockClient({ ...common, ...(o.endpoint ? { endpoint: o.endpoint } : {}) }),
        // With an endpoint override (MinIO, LocalStack, a test server) use path-style addressing and only the checksums
        // S3 requires: S3-compatible servers often reject the SDK's default aws-chunked CRC32 uploads.
        s3: new S3Client({
          ...common,
          ...(o.s3Endpoint ? { endpoint: o.s3Endpoint, forcePathStyle: true, requestChecksumCalculation: "WHEN_REQUIRED", responseChecksumValidation: "WHEN_REQUIRED" } : {}),
        }),
      };
      this.clients.set(region, c);
    }
    return c;
  }

  /** hosted.bedrock.region, else the first region the base model's family is customized in. */
  regionFor(model: string): string {
    return this.config.options.region ?? bedrockFamilyOf(model).regions[0]!;
  }

  private forJob(jobId: string): { bedrock: BedrockClient; s3: S3Client } {
    return this.client(regionFromArn(jobId) ?? this.config.options.region ?? "us-west-2");
  }

  /** Problems that must be fixed before anything is uploaded. */
  static requiredSettings(o: BedrockOptions): string[] {
    const missing: string[] = [];
    if (!o.roleArn) missing.push("hosted.bedrock.roleArn (an IAM role Bedrock assumes to read and write your S3 bucket)");
    if (!o.s3Uri) missing.push("hosted.bedrock.s3Uri (e.g. s3://my-bucket/tunekit/)");
    return missing;
  }

  /** The hyperparameters for the base model's family, with its documented defaults for unset ones. */
  hyperparametersFor(model: string, withValidation: boolean): Record<string, number> {
    const o = this.config.options;
    const family = bedrockFamilyOf(model);
    const hp = family.hyperparameters;
    const epochs = o.epochCount ?? Math.min(hp.epochCount!.max, Math.max(1, Math.round(this.config.epochs ?? hp.epochCount!.default)));
    switch (family.family) {
      case "nova":
        return { epochCount: epochs, learningRate: o.learningRate ?? hp.learningRate!.default, learningRateWarmupSteps: o.learningRateWarmupSteps ?? hp.learningRateWarmupSteps!.default };
      case "llama":
        return { epochCount: epochs, batchSize: o.batchSize ?? hp.batchSize!.default, learningRate: o.learningRate ?? hp.learningRate!.default };
      case "claude":
        return {
          epochCount: epochs,
          batchSize: o.batchSize ?? hp.batchSize!.default,
          learningRateMultiplier: o.learningRateMultiplier ?? hp.learningRateMultiplier!.default,
          ...(withValidation ? { earlyStoppingThreshold: o.earlyStoppingThreshold ?? hp.earlyStoppingThreshold!.default, earlyStoppingPatience: o.earlyStoppingPatience ?? hp.earlyStoppingPatience!.default } : {}),
        };
    }
  }

  /** Settings that do not fit the base model's family: refused before anything is uploaded. */
  settingsProblems(model: string, withValidation = false): string[] {
    const o = this.config.options;
    const family = bedrockFamilyOf(model);
    const foreign = (["batchSize", "learningRateMultiplier", "learningRate", "learningRateWarmupSteps", "earlyStoppingThreshold", "earlyStoppingPatience"] as const)
      .filter((k) => o[k] !== undefined && !family.hyperparameters[k])
      .map((k) => `hosted.bedrock.${k} does not apply to ${model} (${family.family}: ${Object.keys(family.hyperparameters).join(", ")})`);
    return [...foreign, ...hyperparameterProblems(model, this.hyperparametersFor(model, withValidation))];
  }

  buildCreateInput(model: string, trainingUri: string, validationUri: string | undefined, outputUri: string, runId: string): CreateModelCustomizationJobCommandInput {
    const o = this.config.options;
    const hyperParameters = Object.fromEntries(Object.entries(this.hyperparametersFor(model, validationUri !== undefined)).map(([k, v]) => [k, String(v)]));
    return {
      jobName: `tunekit-${runId}`.slice(0, 63),
      customModelName: o.customModelName ?? `tunekit-${runId}`.slice(0, 63),
      roleArn: o.roleArn,
      clientRequestToken: runId,
      baseModelIdentifier: model,
      customizationType: "FINE_TUNING",
      trainingDataConfig: { s3Uri: trainingUri },
      ...(validationUri ? { validationDataConfig: { validators: [{ s3Uri: validationUri }] } } : {}),
      outputDataConfig: { s3Uri: outputUri },
      hyperParameters,
      ...(o.kmsKeyId ? { customModelKmsKeyId: o.kmsKeyId } : {}),
      jobTags: [{ key: "tunekit-run", value: runId }],
    };
  }

  async submit(input: SubmitInput): Promise<SubmitResult> {
    const missing = BedrockBackend.requiredSettings(this.config.options);
    if (missing.length) throw new ConfigError("PROVIDER_BEDROCK_SETTINGS_MISSING", `Bedrock fine-tuning needs ${missing.join(" and ")}`, { fix: "add them under hosted.bedrock in train.yaml" });
    const problems = this.settingsProblems(input.model, input.validationFile !== undefined);
    if (problems.length) throw new ConfigError("PROVIDER_BEDROCK_SETTINGS_INVALID", problems.join("; "), { fix: "remove the settings that do not apply, or bring them into the documented range, under hosted.bedrock in train.yaml" });
    const { bedrock, s3 } = this.client(this.regionFor(input.model));
    const { bucket, prefix } = parseS3Uri(this.config.options.s3Uri as string);
    const base = `${prefix}tunekit/${input.runId}/`;
    const upload = async (path: string, name: string) => {
      const key = `${base}${name}`;
      await callProvider("bedrock", `uploading ${name} to s3://${bucket}/${key}`, () =>
        s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: createReadStream(path), ContentLength: statSync(path).size, ContentType: "application/jsonl" })),
      );
      return `s3://${bucket}/${key}`;
    };
    const trainingUri = await upload(input.trainingFile, "train.jsonl");
    const validationUri = input.validationFile ? await upload(input.validationFile, "validation.jsonl") : undefined;
    const outputUri = `s3://${bucket}/${base}output/`;
    const created = await callProvider("bedrock", "creating the model customization job", () =>
      bedrock.send(new CreateModelCustomizationJobCommand(this.buildCreateInput(input.model, trainingUri, validationUri, outputUri, input.runId))),
    );
    const jobId = created.jobArn as string;
    return { jobId, state: await this.status(jobId), files: { training: trainingUri, ...(validationUri ? { validation: validationUri } : {}) } };
  }

  private async get(jobId: string): Promise<GetModelCustomizationJobResponse> {
    return callProvider("bedrock", `getting job ${jobId}`, () => this.forJob(jobId).bedrock.send(new GetModelCustomizationJobCommand({ jobIdentifier: jobId })));
  }

  async status(jobId: string): Promise<JobState> {
    return this.toState(await this.get(jobId));
  }

  async events(jobId: string, options: { afterId?: string } = {}): Promise<JobEvent[]> {
    const job = await this.get(jobId);
    const stages: [string, { status?: string; creationTime?: Date; lastModifiedTime?: Date } | undefined][] = [
      ["validation", job.statusDetails?.validationDetails],
      ["data processing", job.statusDetails?.dataProcessingDetails],
      ["training", job.statusDetails?.trainingDetails],
    ];
    const all: JobEvent[] = [];
    for (const [stage, d] of stages) {
      if (!d?.status || d.status === "NotStarted") continue;
      const at = (d.status === "InProgress" ? d.creationTime : d.lastModifiedTime) ?? d.creationTime ?? job.creationTime;
      all.push({ id: `${stage}:${d.status}`, createdAt: (at ?? new Date(0)).toISOString(), level: d.status === "Failed" ? "error" : "info", message: `${stage} ${d.status.toLowerCase()}`, type: "stage" });
    }
    if (job.failureMessage) all.push({ id: "failure", createdAt: (job.endTime ?? job.lastModifiedTime ?? new Date(0)).toISOString(), level: "error", message: job.failureMessage, type: "failure" });
    const at = options.afterId ? all.findIndex((e) => e.id === options.afterId) : -1;
    return at >= 0 ? all.slice(at + 1) : all;
  }

  async metrics(jobId: string): Promise<JobMetric[]> {
    const job = await this.get(jobId);
    if (!job.outputDataConfig?.s3Uri) return [];
    const { bucket, prefix } = parseS3Uri(job.outputDataConfig.s3Uri);
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page = await callProvider("bedrock", `listing outputs in s3://${bucket}/${prefix}`, () =>
        this.forJob(jobId).s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token })),
      );
      for (const o of page.Contents ?? []) if (o.Key && /metrics\.csv$/.test(o.Key)) keys.push(o.Key);
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    const out: JobMetric[] = [];
    for (const key of keys.sort()) {
      const obj = await callProvider("bedrock", `reading s3://${bucket}/${key}`, () => this.forJob(jobId).s3.send(new GetObjectCommand({ Bucket: bucket, Key: key })));
      out.push(...parseMetricsCsv((await obj.Body?.transformToString("utf8")) ?? ""));
    }
    return out;
  }

  async checkpoints(): Promise<JobCheckpoint[]> {
    return []; // Bedrock exposes no intermediate checkpoints for model customization.
  }

  async cancel(jobId: string): Promise<JobState> {
    await callProvider("bedrock", `stopping job ${jobId}`, () => this.forJob(jobId).bedrock.send(new StopModelCustomizationJobCommand({ jobIdentifier: jobId })));
    return this.status(jobId);
  }

  async resultModelId(jobId: string): Promise<string | null> {
    return (await this.status(jobId)).resultModelId;
  }

  private toState(job: GetModelCustomizationJobResponse): JobState {
    const status = STATUS[job.status ?? "InProgress"] ?? "running";
    const hp: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(job.hyperParameters ?? {})) hp[k] = Number.isFinite(Number(v)) ? Number(v) : v;
    const validating = job.statusDetails?.validationDetails?.status === "InProgress";
    return {
      provider: "bedrock",
      jobId: job.jobArn ?? "",
      status: job.status === "InProgress" && validating ? "validating" : status,
      providerStatus: job.status ?? "unknown",
      baseModel: job.baseModelArn ?? "",
      resultModelId: status === "succeeded" ? (job.outputModelArn ?? null) : null,
      hyperparameters: hp,
      trainedTokens: null,
      billedCostUsd: null,
      error: job.failureMessage ? { code: "BEDROCK_JOB_FAILED", message: job.failureMessage } : null,
      createdAt: job.creationTime?.toISOString() ?? null,
      finishedAt: job.endTime?.toISOString() ?? null,
    };
  }
}

/** Shown in the plan before a Bedrock job starts: how the custom model will be served (Provisioned Throughput costs). */
export function bedrockServingWarning(model: string): string {
  return bedrockFamilyOf(model).serving;
}
