import { z } from "zod";
import { TokenPriceSchema } from "../../cost/index.js";

/**
 * `gateway:` in tunekit.yaml — `tunekit serve`. A route is one backend (an OpenAI-compatible upstream or the
 * local worker) under a name; the name is the variant an experiment assigns and the model id clients may ask
 * for. An experiment exposes one public model id and splits its traffic between routes by weight.
 */
export const GatewayRouteSchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:-]*$/, "letters, digits, . _ : - only").describe("Route (variant) name; also a model id on /v1/models."),
  backend: z.enum(["openai", "local"]).default("openai").describe("openai: any OpenAI-compatible upstream (OpenAI, vLLM, Ollama); local: the tunekit worker."),
  baseUrl: z.string().url().optional().describe("Upstream base URL including /v1, e.g. http://127.0.0.1:8000/v1 (backend openai)."),
  apiKeyEnv: z.string().optional().describe("Name of the env var holding the upstream key (the key itself never goes in this file or a log)."),
  model: z.string().optional().describe("Model id sent upstream (default: the route name)."),
  modelDir: z.string().optional().describe("Hugging Face model folder, or a Hub name org/name[@revision] downloaded into the HF cache (backend local)."),
  adapterDir: z.string().optional().describe("LoRA adapter folder on top of modelDir (backend local)."),
  template: z.string().optional().describe("Chat template: the model's own when unset, or a named one (chatml) or a .jinja path (backend local)."),
  maxNewTokens: z.number().int().positive().default(256).describe("Default max_tokens for the local backend."),
  timeoutMs: z.number().int().positive().default(60_000).describe("Per attempt: time to the first byte and between bytes."),
  retries: z.number().int().min(0).max(10).default(2).describe("Retries on 408, 409, 429, 5xx and connection errors, before any byte reached the client."),
  retryBackoffMs: z.number().int().min(0).default(100).describe("Cap of the first retry's jittered delay (doubles each attempt); an upstream Retry-After wins, up to timeoutMs."),
  fallback: z.string().optional().describe("Route tried when this one fails after its retries."),
  pricing: TokenPriceSchema.optional().describe("Inference price, for the cost of each logged request."),
});
export type GatewayRoute = z.infer<typeof GatewayRouteSchema>;

export const GatewayExperimentSchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, "letters, digits, . _ - only"),
  model: z.string().min(1).describe("The public model id clients send; its traffic is split between the variants."),
  variants: z
    .array(z.strictObject({ route: z.string().min(1), weight: z.number().nonnegative().default(1) }))
    .min(1)
    .describe("Routes and their traffic weights; the first is the control (where stop and rollback send traffic)."),
  stickyBy: z.enum(["user", "session"]).default("user").describe("user: the request's `user` field or x-tunekit-user; session: x-tunekit-session."),
  autoStart: z.boolean().default(false).describe("Start the experiment the first time the gateway sees it."),
});
export type GatewayExperiment = z.infer<typeof GatewayExperimentSchema>;

export const GatewayAlertRuleSchema = z.strictObject({
  metric: z.enum(["error_rate", "latency_p50_ms", "latency_p95_ms", "latency_p99_ms", "cost_usd", "feedback_score", "drift_psi"]),
  op: z.enum([">", "<"]).default(">"),
  threshold: z.number(),
  variant: z.string().optional().describe("Only this variant (default: each variant)."),
  windowMinutes: z.number().int().positive().default(15),
  minRequests: z.number().int().min(0).default(20).describe("Do not judge a window with fewer requests."),
});
export type GatewayAlertRule = z.infer<typeof GatewayAlertRuleSchema>;

/**
 * `gateway.fineTuning` — OpenAI's fine-tuning API (`/v1/files`, `/v1/fine_tuning/jobs`) served by `tunekit
 * serve`, training locally one job at a time. `model` in a job is a name listed here (or, with allowPaths, a folder).
 */
export const GatewayFineTuningSchema = z
  .strictObject({
    enabled: z.boolean().default(true).describe("Serve /v1/files and /v1/fine_tuning/jobs (training runs in the serve process, one job at a time)."),
    baseModels: z
      .record(z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, "letters, digits, . _ - only"), z.string().min(1))
      .default({})
      .describe("Base model names a job's `model` may use, each mapped to a model folder (relative to the workspace root)."),
    allowPaths: z
      .boolean()
      .default(false)
      .describe("Also accept a model folder path as a job's `model` (any folder the server can read): off, so a fine-tune key trains only the models named in baseModels."),
    maxFileBytes: z.number().int().positive().default(512 * 1024 * 1024).describe("Largest accepted upload to POST /v1/files (413 above); the upload streams to disk."),
    train: z
      .record(z.string(), z.unknown())
      .default({})
      .describe("train.yaml fields every job starts from (seqLen, lora, device, checkpoint, maxSteps…); a job's hyperparameters override epochs, batchSize and optimizer.lr."),
  })
  .prefault({});
export type GatewayFineTuning = z.infer<typeof GatewayFineTuningSchema>;

export const GatewaySectionSchema = z
  .strictObject({
    host: z.string().default("127.0.0.1").describe("Listen address; loopback by default — expose it deliberately."),
    port: z.number().int().min(0).max(65535).default(8787),
    maxBodyBytes: z.number().int().positive().default(1_048_576).describe("Largest accepted request body (413 above)."),
    bodyTimeoutMs: z.number().int().positive().default(30_000).describe("A request body must arrive within this many ms (408 after): slow-body clients cannot hold connections."),
    maxJsonDepth: z.number().int().min(2).max(1000).default(64).describe("Deepest nesting of arrays/objects accepted in a JSON body (400 above)."),
    routes: z.array(GatewayRouteSchema).default([]),
    experiments: z.array(GatewayExperimentSchema).default([]),
    defaultModel: z.string().optional().describe("Model used when a request names none."),
    auth: z
      .strictObject({
        required: z.boolean().default(true).describe("Require a client key (create one with `tunekit serve keys create`)."),
        requestsPerMinute: z.number().positive().default(600).describe("Default per-key rate (token bucket refill)."),
        burst: z.number().int().positive().default(60).describe("Default per-key bucket size."),
      })
      .default({ required: true, requestsPerMinute: 600, burst: 60 }),
    logging: z
      .strictObject({
        backend: z.enum(["sqlite", "postgres"]).default("sqlite"),
        path: z.string().default("gateway.db").describe("SQLite file, relative to .tunekit/."),
        url: z.string().optional().describe("PostgreSQL URL (backend postgres); prefer TUNEKIT_GATEWAY__LOGGING__URL."),
        durability: z
          .enum(["fsync", "write", "memory"])
          .default("fsync")
          .describe("Before a response is sent its record is: fsync'd to the write-ahead log, written to it (survives a crash of tunekit, not of the machine), or only queued."),
        batchSize: z.number().int().positive().default(500),
        flushMs: z.number().int().positive().default(200).describe("Longest a record waits before its batch is written to the database."),
        retentionDays: z.number().positive().optional().describe("Delete logged requests older than this."),
        maxRecords: z.number().int().positive().optional().describe("Keep at most this many logged requests (oldest deleted first)."),
        redactPii: z.boolean().default(false).describe("Replace emails, phone numbers, card and account numbers in stored text."),
        storeContent: z.boolean().default(true).describe("Store prompts and completions (needed for feedback export and drift)."),
      })
      .default({ backend: "sqlite", path: "gateway.db", durability: "fsync", batchSize: 500, flushMs: 200, redactPii: false, storeContent: true }),
    alerts: z
      .strictObject({
        webhookUrl: z.string().url().optional().describe("POSTed a JSON body for each alert."),
        intervalSeconds: z.number().int().positive().default(60),
        rules: z.array(GatewayAlertRuleSchema).default([]),
      })
      .default({ intervalSeconds: 60, rules: [] }),
    drift: z
      .strictObject({
        dataset: z.string().optional().describe("Training dataset version ref (name, name@N) that inputs are compared with."),
        labelKey: z.string().default("label").describe("metadata key holding a record's label, for the label distribution."),
        minRequests: z.number().int().min(1).default(100).describe("Fewer live requests (labelled ones, for labels) than this: drift is reported as insufficient data, not judged."),
        minReference: z.number().int().min(1).default(100).describe("Fewer training records (the train split) than this: insufficient data."),
      })
      .default({ labelKey: "label", minRequests: 100, minReference: 100 }),
    fineTuning: GatewayFineTuningSchema,
  })
  .default({
    host: "127.0.0.1",
    port: 8787,
    maxBodyBytes: 1_048_576,
    bodyTimeoutMs: 30_000,
    maxJsonDepth: 64,
    routes: [],
    experiments: [],
    auth: { required: true, requestsPerMinute: 600, burst: 60 },
    logging: { backend: "sqlite", path: "gateway.db", durability: "fsync", batchSize: 500, flushMs: 200, redactPii: false, storeContent: true },
    alerts: { intervalSeconds: 60, rules: [] },
    drift: { labelKey: "label", minRequests: 100, minReference: 100 },
    fineTuning: { enabled: true, baseModels: {}, allowPaths: false, maxFileBytes: 512 * 1024 * 1024, train: {} },
  });

export type GatewaySection = z.infer<typeof GatewaySectionSchema>;
