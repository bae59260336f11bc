/**
 * Hugging Face (self-hosted LoRA/full fine-tuning) rules: a chat record is valid when the chosen model's chat
 * template renders it; text records are used as-is for continued pre-training.
 */
export const HF_RULES = {
  target: "hf",
  title: "Hugging Face model with a chat template (tunekit's own trainer)",
  sources: [
    "https://huggingface.co/docs/transformers/main/en/chat_templating",
  ],
  checkedOn: "2026-11-28",
  recordKinds: ["chat", "text"],
  roles: ["system", "user", "assistant", "tool"],
  minExamples: 1,
} as const;
