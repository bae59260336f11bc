import { z } from "zod";
import { AuthError } from "../errors/index.js";

/**
 * Hosted-provider settings for train.yaml (`provider: openai|bedrock|together`, then `hosted.<provider>`).
 * Credentials are named by environment variable, never written into the file: a spec is stored with the run.
 */
const Auto = z.literal("auto");

export const OpenAiOptionsSchema = z
  .strictObject({
    method: z.enum(["sft", "dpo"]).default("sft"),
    nEpochs: z.union([Auto, z.number().int().min(1).max(50)]).optional().describe("Default: train.yaml epochs; \"auto\" lets OpenAI choose."),
    batchSize: z.union([Auto, z.number().int().min(1).max(256)]).default("auto"),
    learningRateMultiplier: z.union([Auto, z.number().positive().max(50)]).default("auto"),
    beta: z.union([Auto, z.number().positive().max(2)]).default("auto").describe("DPO only: weight of the penalty between policy and reference."),
    suffix: z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/, "1-64 letters, digits, - or _").optional(),
    seed: z.number().int().optional().describe("Default: train.yaml seed."),
    baseURL: z.string().url().optional(),
    organization: z.string().optional(),
    apiKeyEnv: z.string().default("OPENAI_API_KEY"),
  })
  .prefault({});

export const BedrockOptionsSchema = z
  .strictObject({
    region: z.string().optional().describe("Default: where the base model's customization is offered (Claude 3 Haiku and Llama: us-west-2; Nova: us-east-1)."),
    roleArn: z.string().regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/.+$/, "an IAM role ARN like arn:aws:iam::123456789012:role/BedrockFineTune").optional(),
    s3Uri: z.string().regex(/^s3:\/\/[a-z0-9.-]{3,63}(\/.*)?$/, "an S3 URI like s3://my-bucket/tunekit/").optional().describe("Where training data and outputs go."),
    customModelName: z.string().max(63).optional(),
    epochCount: z.number().int().min(1).max(10).optional().describe("Default: train.yaml epochs (Nova allows at most 5)."),
    // Which hyperparameters apply depends on the base model's family (src/providers/bedrock/base-models.ts); unset
    // ones take the family's documented default, and a family never receives another family's names.
    batchSize: z.number().int().min(1).max(256).optional().describe("Claude 3 Haiku: 4..256 (default 32); Llama: 1."),
    learningRateMultiplier: z.number().min(0.1).max(2).optional().describe("Claude 3 Haiku only (default 1)."),
    learningRate: z.number().positive().max(0.1).optional().describe("Nova: 1e-6..1e-4 (default 1e-5); Llama: 5e-6..0.1 (default 1e-4)."),
    learningRateWarmupSteps: z.number().int().min(0).max(100).optional().describe("Nova only (default 10)."),
    earlyStoppingThreshold: z.number().min(0).max(0.1).optional().describe("Claude 3 Haiku with a validation file (default 0.001)."),
    earlyStoppingPatience: z.number().int().min(1).max(10).optional().describe("Claude 3 Haiku with a validation file (default 2)."),
    endpoint: z.string().url().optional().describe("Bedrock endpoint override (testing, VPC endpoints)."),
    s3Endpoint: z.string().url().optional().describe("S3 endpoint override (path-style addressing is used)."),
    kmsKeyId: z.string().optional(),
  })
  .prefault({});

export const TogetherOptionsSchema = z
  .strictObject({
    trainingType: z.enum(["lora", "full"]).default("lora"),
    method: z.enum(["sft", "dpo"]).default("sft"),
    nEpochs: z.number().int().min(1).max(20).optional().describe("Default: train.yaml epochs."),
    nCheckpoints: z.number().int().min(1).default(1),
    nEvals: z.number().int().min(0).default(0),
    batchSize: z.union([z.literal("max"), z.number().int().min(1)]).default("max"),
    learningRate: z.number().positive().default(1e-5),
    loraR: z.number().int().min(1).default(8),
    loraAlpha: z.number().positive().default(16),
    suffix: z.string().max(40).optional(),
    seed: z.number().int().optional(),
    trainOnInputs: z.union([z.boolean(), Auto]).default("auto"),
    baseURL: z.string().url().optional(),
    apiKeyEnv: z.string().default("TOGETHER_API_KEY"),
  })
  .prefault({});

export const HostedOptionsSchema = z
  .strictObject({ openai: OpenAiOptionsSchema, bedrock: BedrockOptionsSchema, together: TogetherOptionsSchema })
  .prefault({})
  .describe("Settings for hosted fine-tuning, per provider.");

export type OpenAiOptions = z.infer<typeof OpenAiOptionsSchema>;
export type BedrockOptions = z.infer<typeof BedrockOptionsSchema>;
export type TogetherOptions = z.infer<typeof TogetherOptionsSchema>;
export type HostedOptions = z.infer<typeof HostedOptionsSchema>;

/** The API key named by `apiKeyEnv`, from the environment only. */
export function readApiKey(provider: "openai" | "together", envName: string, env: NodeJS.ProcessEnv = process.env): string {
  const key = env[envName];
  if (!key) {
    throw new AuthError("PROVIDER_CREDENTIALS_MISSING", `${provider}: no API key in the environment variable ${envName}`, {
      fix: `export ${envName}=… (tunekit reads keys from the environment and never stores them)`,
      details: { provider, env: envName },
    });
  }
  return key;
}
