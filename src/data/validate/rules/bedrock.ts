/**
 * Amazon Bedrock fine-tuning rules for Anthropic Claude 3 Haiku, as data. The exported line is
 * {"system"?: string, "messages": [{"role": "user"|"assistant", "content": string}, ...]} and nothing else.
 */
export const BEDROCK_CLAUDE_HAIKU_RULES = {
  target: "bedrock",
  title: "Amazon Bedrock fine-tuning, Anthropic Claude 3 Haiku",
  sources: [
    "https://docs.aws.amazon.com/bedrock/latest/userguide/model-customization-prepare.html",
    "https://docs.aws.amazon.com/bedrock/latest/userguide/quotas.html",
    "https://aws.amazon.com/blogs/machine-learning/fine-tune-anthropics-claude-3-haiku-in-amazon-bedrock-to-boost-model-accuracy-and-quality/",
  ],
  checkedOn: "2026-11-28",
  model: "anthropic.claude-3-haiku-20240307-v1:0:200k",
  recordKinds: ["chat"],
  allowedKeys: ["system", "messages"],
  roles: ["user", "assistant"],
  firstRole: "user",
  lastRole: "assistant",
  minMessages: 2,
  minTrainingRecords: 32,
  maxTrainingRecords: 10_000,
  /** "About 32k tokens" per record; Claude's tokenizer is not public, so counts are o200k_base estimates. */
  maxTokensPerRecord: 32_000,
  estimateEncoding: "o200k_base",
  forbiddenSubstrings: ["\nHuman:", "\nAssistant:"],
} as const;

/**
 * Amazon Nova Micro / Lite / Pro fine-tuning on Bedrock, as data. The exported line is the Converse-style
 * `bedrock-conversation-2024` record: {"schemaVersion", "system"?: [{"text"}], "messages": [{"role", "content":
 * [{"text"}]}]}, user first, strictly alternating, assistant last. Lite and Pro also take images (S3 URIs in the
 * dataset's bucket); tunekit's canonical record carries text only, so exports are text-only.
 */
export const BEDROCK_NOVA_RULES = {
  target: "bedrock-nova",
  title: "Amazon Bedrock fine-tuning, Amazon Nova Micro / Lite / Pro (bedrock-conversation-2024)",
  sources: [
    "https://docs.aws.amazon.com/nova/latest/userguide/fine-tune-prepare-data-understanding.html",
    "https://docs.aws.amazon.com/bedrock/latest/userguide/cm-hp-nova-mm.html",
    "https://docs.aws.amazon.com/bedrock/latest/userguide/model-customization-prepare.html",
  ],
  checkedOn: "2026-12-03",
  schemaVersion: "bedrock-conversation-2024",
  recordKinds: ["chat"],
  roles: ["user", "assistant"],
  firstRole: "user",
  lastRole: "assistant",
  minMessages: 2,
  /** Terms Nova reserves: a prompt containing one fails the job with a data error (documented). */
  reservedSubstrings: ["User:", "Bot:", "Assistant:", "System:", "<image>", "<video>", "[EOS]"],
  estimateEncoding: "o200k_base",
  models: [
    { model: "amazon.nova-micro-v1:0:128k", minTrainingRecords: 8, maxTrainingRecords: 20_000, maxTokensPerRecord: 32_000, images: false },
    { model: "amazon.nova-lite-v1:0:300k", minTrainingRecords: 8, maxTrainingRecords: 20_000, maxTokensPerRecord: 32_000, images: true },
    { model: "amazon.nova-pro-v1:0:300k", minTrainingRecords: 8, maxTrainingRecords: 20_000, maxTokensPerRecord: 32_000, images: true },
  ],
  /** Figures we could not confirm against the sources: the checks use them, the docs say so. */
  unsure: [
    "minTrainingRecords 8 and maxTrainingRecords 20,000 are as remembered from the Nova dataset-constraints table; the page copy we could read recommends ≥100 samples per task and gives no table",
    "maxTokensPerRecord 32,000 (input + output) for all three models is not confirmed; Nova's tokenizer is not public, counts are o200k_base estimates",
    "the customization base model ids (…:128k, …:300k) are as remembered, not re-confirmed",
  ],
} as const;

/**
 * Meta Llama 3.1 (8B, 70B) and 3.2 (1B, 3B, 11B, 90B) fine-tuning on Bedrock, as data. Bedrock documents
 * {"prompt", "completion"} lines for text-to-text models (about 6 characters per token), so a single-turn chat
 * record is exported as its user prompt and assistant reply; a leading system message is folded into the prompt.
 */
export const BEDROCK_LLAMA_RULES = {
  target: "bedrock-llama",
  title: "Amazon Bedrock fine-tuning, Meta Llama 3.1 / 3.2 (prompt/completion)",
  sources: [
    "https://docs.aws.amazon.com/bedrock/latest/userguide/preparing-text-data.html",
    "https://docs.aws.amazon.com/bedrock/latest/userguide/cm-hp-meta-llama31.html",
    "https://docs.aws.amazon.com/bedrock/latest/userguide/cm-hp-meta-llama32.html",
  ],
  checkedOn: "2026-12-03",
  recordKinds: ["chat"],
  /** Bedrock's planning rule: about 6 characters per token. */
  charsPerToken: 6,
  models: [
    { model: "meta.llama3-1-8b-instruct-v1:0:128k", minTrainingRecords: 1, maxTrainingRecords: 10_000, maxTokensPerRecord: 16_000 },
    { model: "meta.llama3-1-70b-instruct-v1:0:128k", minTrainingRecords: 1, maxTrainingRecords: 10_000, maxTokensPerRecord: 16_000 },
    { model: "meta.llama3-2-1b-instruct-v1:0:128k", minTrainingRecords: 1, maxTrainingRecords: 10_000, maxTokensPerRecord: 16_000 },
    { model: "meta.llama3-2-3b-instruct-v1:0:128k", minTrainingRecords: 1, maxTrainingRecords: 10_000, maxTokensPerRecord: 16_000 },
    { model: "meta.llama3-2-11b-instruct-v1:0:128k", minTrainingRecords: 1, maxTrainingRecords: 10_000, maxTokensPerRecord: 16_000 },
    { model: "meta.llama3-2-90b-instruct-v1:0:128k", minTrainingRecords: 1, maxTrainingRecords: 10_000, maxTokensPerRecord: 16_000 },
  ],
  unsure: [
    "record limits (10,000 training records, the default 'sum of training and validation records' quota) and 16,000 tokens per record are not confirmed per model",
    "whether Llama 3.1/3.2 customization also accepts the bedrock-conversation-2024 format is not confirmed; prompt/completion is the documented text-to-text format",
    "Llama 3.2 11B/90B Vision take images in a messages format; tunekit exports text only",
    "the customization base model ids are as remembered, not re-confirmed",
  ],
} as const;

export type BedrockNovaModelRules = (typeof BEDROCK_NOVA_RULES.models)[number];
export type BedrockLlamaModelRules = (typeof BEDROCK_LLAMA_RULES.models)[number];

/**
 * The limits for one base model of a family: the named model's row, else the strictest row of the family (an
 * export without `--model` must pass for any of them).
 */
export function bedrockModelLimits<T extends { model: string; minTrainingRecords: number; maxTrainingRecords: number; maxTokensPerRecord: number }>(
  rows: readonly T[],
  model: string | undefined,
): { model: string; minTrainingRecords: number; maxTrainingRecords: number; maxTokensPerRecord: number } {
  const exact = model ? rows.find((r) => r.model === model || r.model.replace(/:\d+k$/, "") === model) : undefined;
  if (exact) return exact;
  return {
    model: `any of ${rows.map((r) => r.model).join(", ")}`,
    minTrainingRecords: Math.max(...rows.map((r) => r.minTrainingRecords)),
    maxTrainingRecords: Math.min(...rows.map((r) => r.maxTrainingRecords)),
    maxTokensPerRecord: Math.min(...rows.map((r) => r.maxTokensPerRecord)),
  };
}
