import { describe, expect, it } from "vitest";
import { loadChatTemplate } from "./chat-template.js";
import { loadTokenizer } from "./load-tokenizer.js";
import { renderPreview } from "./preview-render.js";
import { previewExamples } from "./preview.js";
import { QWEN3_DIR } from "./testing/models.js";

const qwen = loadTokenizer(QWEN3_DIR);
const template = loadChatTemplate(qwen);
const chat = { messages: [{ role: "user" as const, content: "Hi" }, { role: "assistant" as const, content: "Hello there, friend" }] };

describe("preview", () => {
  it("shows trained spans in [[…]] when piped, with counts", async () => {
    const examples = await previewExamples([chat, { text: "plain text" }], qwen, template, { count: 5 });
    expect(examples.map((e) => [e.trainedTokens, e.untrainedTokens, e.tokens])).toEqual([[9, 10, 19], [2, 1, 3]]);
    expect(renderPreview(examples, { color: false })).toBe(
      [
        "── example 1 (chat) ──",
        "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n[[<think>\n\n</think>\n\nHello there, friend<|im_end|>]]\n",
        "trained 9 · untrained 10 · total 19 tokens",
        "",
        "── example 2 (text) ──",
        "plain[[ text<|im_end|>]]",
        "trained 2 · untrained 1 · total 3 tokens",
        "",
        "legend: [[text]] is trained (loss), everything else is context only",
      ].join("\n"),
    );
  });

  it("warns when seq_len cuts trained tokens away, and colours on a terminal", async () => {
    const [example] = await previewExamples([chat], qwen, template, { seqLen: 12 });
    expect(example.warnings.map((w) => w.code)).toEqual(["truncated_assistant"]);
    expect(example.segments.at(-1)?.truncated).toBe(true);
    expect(renderPreview([example], { color: true })).toContain("\u001b[");
  });

  it("TOKENIZE_PREVIEW_OPTIONS_INVALID", async () => {
    await expect(previewExamples([chat], qwen, template, { count: 0 })).rejects.toMatchObject({ code: "TOKENIZE_PREVIEW_OPTIONS_INVALID" });
  });
});
