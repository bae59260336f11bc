/**
 * OpenAI supervised fine-tuning rules, as data. Providers change these; update the table (and `checkedOn`),
 * not the checker. Token limits are per training example (all messages of one record).
 */
export const OPENAI_RULES = {
  target: "openai",
  title: "OpenAI supervised fine-tuning (chat JSONL)",
  sources: [
    "https://platform.openai.com/docs/guides/supervised-fine-tuning",
    "https://platform.openai.com/docs/api-reference/fine-tuning/chat-input",
    "https://cookbook.openai.com/examples/chat_finetuning_data_prep",
  ],
  checkedOn: "2026-11-28",
  recordKinds: ["chat"],
  roles: ["system", "user", "assistant", "tool"],
  /** `weight` is only allowed on these roles, with these values. */
  weightRoles: ["assistant"],
  weightValues: [0, 1],
  minExamples: 10,
  /** Below this OpenAI's guide says results are usually not noticeably better than prompting. */
  recommendedMinExamples: 50,
  defaultModel: "gpt-4o-mini-2024-07-18",
  /** Maximum tokens per training example, by model. */
  exampleTokenLimits: {
    "gpt-4o-mini-2024-07-18": 65_536,
    "gpt-4o-2024-08-06": 65_536,
    "gpt-3.5-turbo-0125": 16_385,
    // The gpt-4.1 family shares gpt-4o's per-example limit in the fine-tuning guide's model table (checked
    // against the guide's wording only; OpenAI rejects over-long examples at upload, which is the backstop).
    "gpt-4.1-2025-04-14": 65_536,
    "gpt-4.1-mini-2025-04-14": 65_536,
    "gpt-4.1-nano-2025-04-14": 65_536,
  } as Record<string, number>,
  encodings: {
    "gpt-4o-mini-2024-07-18": "o200k_base",
    "gpt-4o-2024-08-06": "o200k_base",
    "gpt-3.5-turbo-0125": "cl100k_base",
    "gpt-4.1-2025-04-14": "o200k_base",
    "gpt-4.1-mini-2025-04-14": "o200k_base",
    "gpt-4.1-nano-2025-04-14": "o200k_base",
  } as Record<string, "o200k_base" | "cl100k_base">,
  /** Chat-format overhead per the OpenAI cookbook's token counting: per message, per name, reply priming. */
  tokensPerMessage: 3,
  tokensPerName: 1,
  tokensReplyPriming: 3,
} as const;

/** OpenAI direct preference optimization (DPO) rules. */
export const OPENAI_DPO_RULES = {
  target: "openai-dpo",
  title: "OpenAI direct preference optimization (preference JSONL)",
  sources: [
    "https://platform.openai.com/docs/guides/direct-preference-optimization",
    "https://platform.openai.com/docs/api-reference/fine-tuning/preference-input",
  ],
  checkedOn: "2026-11-28",
  recordKinds: ["preference"],
  inputRoles: ["system", "user", "assistant", "tool"],
  /** preferred_output and non_preferred_output each hold exactly this many messages, of this role. */
  outputMessages: 1,
  outputRole: "assistant",
  minExamples: 10,
  defaultModel: "gpt-4o-mini-2024-07-18",
} as const;
