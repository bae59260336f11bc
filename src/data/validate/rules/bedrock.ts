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
