/**
 * Together AI fine-tuning data rules, as data. Together accepts conversational ("messages"), generic text
 * ("text") and preference records; `weight` 0/1 on messages masks turns from the loss.
 */
export const TOGETHER_RULES = {
  target: "together",
  title: "Together AI fine-tuning (conversational, text or preference JSONL)",
  sources: [
    "https://docs.together.ai/docs/fine-tuning-data-preparation",
    "https://docs.together.ai/docs/preference-fine-tuning",
  ],
  checkedOn: "2026-11-28",
  recordKinds: ["chat", "text", "preference"],
  roles: ["system", "user", "assistant"],
  weightValues: [0, 1],
  /** Together's loader requires an assistant turn to learn from in each conversation. */
  requireAssistant: true,
  minExamples: 1,
} as const;
