/**
 * The base models Amazon Bedrock customizes (FINE_TUNING), as data: the id CreateModelCustomizationJob takes,
 * the family (which decides the data format, the hyperparameter names and the region), and how the custom model
 * is served. Hyperparameters are the API names and ranges from Bedrock's "Custom model hyperparameters" pages;
 * Bedrock rejects a job carrying a hyperparameter its family does not define, so each family sends only its own.
 */
export type BedrockFamily = "claude" | "nova" | "llama";
export type BedrockTarget = "bedrock" | "bedrock-nova" | "bedrock-llama";

export interface HyperparameterRange {
  min: number;
  max: number;
  default: number;
}

export interface BedrockFamilyInfo {
  family: BedrockFamily;
  target: BedrockTarget;
  /** Where customization is offered; the first is used when hosted.bedrock.region is not set. */
  regions: readonly string[];
  hyperparameters: Readonly<Record<string, HyperparameterRange>>;
  serving: string;
  source: string;
  unsure: readonly string[];
}

export const BEDROCK_FAMILIES: Readonly<Record<BedrockFamily, BedrockFamilyInfo>> = {
  claude: {
    family: "claude",
    target: "bedrock",
    regions: ["us-west-2"],
    hyperparameters: {
      epochCount: { min: 1, max: 10, default: 2 },
      batchSize: { min: 4, max: 256, default: 32 },
      learningRateMultiplier: { min: 0.1, max: 2, default: 1 },
      earlyStoppingThreshold: { min: 0, max: 0.1, default: 0.001 },
      earlyStoppingPatience: { min: 1, max: 10, default: 2 },
    },
    serving: "a fine-tuned Claude 3 Haiku can only be served on Amazon Bedrock Provisioned Throughput (model units billed per hour, whether used or not); on-demand per-token serving is not available for custom models. Budget for it before training.",
    source: "https://docs.aws.amazon.com/bedrock/latest/userguide/cm-hp-anth-claude-3.html",
    unsure: [],
  },
  nova: {
    family: "nova",
    target: "bedrock-nova",
    regions: ["us-east-1"],
    hyperparameters: {
      epochCount: { min: 1, max: 5, default: 2 },
      learningRate: { min: 1e-6, max: 1e-4, default: 1e-5 },
      learningRateWarmupSteps: { min: 0, max: 100, default: 10 },
    },
    serving: "a customized Amazon Nova model is served on Provisioned Throughput (model units billed per hour) or, where Bedrock offers it, on-demand at per-token prices (unconfirmed here); check the Bedrock pricing page before training.",
    source: "https://docs.aws.amazon.com/bedrock/latest/userguide/cm-hp-nova-mm.html",
    unsure: ["regions: us-east-1 as remembered for Nova customization", "on-demand serving of custom Nova models"],
  },
  llama: {
    family: "llama",
    target: "bedrock-llama",
    regions: ["us-west-2"],
    hyperparameters: {
      epochCount: { min: 1, max: 10, default: 5 },
      batchSize: { min: 1, max: 1, default: 1 },
      learningRate: { min: 5e-6, max: 0.1, default: 1e-4 },
    },
    serving: "a customized Meta Llama model is served on Amazon Bedrock Provisioned Throughput (model units billed per hour, whether used or not). Budget for it before training.",
    source: "https://docs.aws.amazon.com/bedrock/latest/userguide/cm-hp-meta-llama31.html",
    unsure: ["regions: us-west-2 as remembered for Llama customization"],
  },
};

export const BEDROCK_BASE_MODELS: readonly { model: string; family: BedrockFamily }[] = [
  { model: "anthropic.claude-3-haiku-20240307-v1:0:200k", family: "claude" },
  { model: "amazon.nova-micro-v1:0:128k", family: "nova" },
  { model: "amazon.nova-lite-v1:0:300k", family: "nova" },
  { model: "amazon.nova-pro-v1:0:300k", family: "nova" },
  { model: "meta.llama3-1-8b-instruct-v1:0:128k", family: "llama" },
  { model: "meta.llama3-1-70b-instruct-v1:0:128k", family: "llama" },
  { model: "meta.llama3-2-1b-instruct-v1:0:128k", family: "llama" },
  { model: "meta.llama3-2-3b-instruct-v1:0:128k", family: "llama" },
  { model: "meta.llama3-2-11b-instruct-v1:0:128k", family: "llama" },
  { model: "meta.llama3-2-90b-instruct-v1:0:128k", family: "llama" },
];

/**
 * The family of a base model id (with or without Bedrock's `:NNNk` context suffix). An id Bedrock may offer but
 * this table lacks falls back on its provider prefix, so a new Nova or Llama version still gets the right format;
 * anything else is treated as Claude, the format Bedrock customization started with.
 */
export function bedrockFamilyOf(model: string): BedrockFamilyInfo {
  const bare = model.replace(/:\d+k$/, "");
  const known = BEDROCK_BASE_MODELS.find((m) => m.model === model || m.model.replace(/:\d+k$/, "") === bare);
  if (known) return BEDROCK_FAMILIES[known.family];
  if (model.startsWith("amazon.nova-")) return BEDROCK_FAMILIES.nova;
  if (model.startsWith("meta.llama")) return BEDROCK_FAMILIES.llama;
  return BEDROCK_FAMILIES.claude;
}

/** Hyperparameters outside the family's documented range, as messages naming the value and the range. */
export function hyperparameterProblems(model: string, values: Record<string, number>): string[] {
  const family = bedrockFamilyOf(model);
  return Object.entries(values).flatMap(([name, value]) => {
    const range = family.hyperparameters[name];
    if (!range) return [];
    return value < range.min || value > range.max ? [`hosted.bedrock ${name} ${value} is outside ${range.min}..${range.max} for ${model} (${family.source})`] : [];
  });
}
