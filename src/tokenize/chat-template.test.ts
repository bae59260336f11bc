import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadChatTemplate, toTemplateMessages } from "./chat-template.js";
import { loadTokenizer } from "./load-tokenizer.js";
import { LLAMA3_DIR, QWEN3_DIR, STORIES_DIR } from "./testing/models.js";

const qwen = loadTokenizer(QWEN3_DIR);
const messages = toTemplateMessages([
  { role: "system", content: "Be brief." },
  { role: "user", content: "Hi" },
  { role: "assistant", content: "Hello!" },
]);

describe("chat templates", () => {
  it("renders Qwen3's own template, whole string, with and without a generation prompt and thinking", () => {
    const template = loadChatTemplate(qwen);
    expect(template.name).toBe("model");
    expect(template.render(messages, { addGenerationPrompt: false })).toBe(
      "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\nHello!<|im_end|>\n",
    );
    expect(template.render(messages.slice(0, 2), { addGenerationPrompt: true, variables: { enable_thinking: false } })).toBe(
      "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n",
    );
  });

  it("renders Llama 3 with bos_token from the config", () => {
    const template = loadChatTemplate(loadTokenizer(LLAMA3_DIR));
    expect(template.render(messages.slice(1, 2), { addGenerationPrompt: true })).toBe(
      "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n",
    );
  });

  it("renders tools and tool calls (arguments parsed from JSON strings)", () => {
    const template = loadChatTemplate(qwen);
    const tools = [{ type: "function" as const, function: { name: "lookup", parameters: { type: "object" } } }];
    const rendered = template.render(
      toTemplateMessages([
        { role: "user", content: "Find 7" },
        { role: "assistant", content: null, tool_calls: [{ id: "1", type: "function", function: { name: "lookup", arguments: '{"id": 7}' } }] },
      ]),
      { tools, addGenerationPrompt: false },
    );
    expect(rendered).toContain('<tools>\n{"type": "function", "function": {"name": "lookup", "parameters": {"type": "object"}}}\n</tools>');
    expect(rendered).toContain('<tool_call>\n{"name": "lookup", "arguments": {"id": 7}}\n</tool_call><|im_end|>');
  });

  it("falls back to the named ChatML default for a model without a template", () => {
    const template = loadChatTemplate(loadTokenizer(STORIES_DIR));
    expect(template.name).toBe("chatml");
    expect(template.render(messages.slice(1), { addGenerationPrompt: false })).toBe("<s><|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\nHello!<|im_end|>\n");
    expect(loadChatTemplate(qwen, { template: "chatml" }).render(messages.slice(1, 2), { addGenerationPrompt: true })).toBe("<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n");
  });

  it("TOKENIZE_TEMPLATE_RENDER_FAILED on raise_exception, with the template's message", () => {
    const file = join(mkdtempSync(join(tmpdir(), "tk-tpl-")), "strict.jinja");
    writeFileSync(file, "{% if messages[0].role != 'system' %}{{ raise_exception('first message must be system') }}{% endif %}ok");
    const template = loadChatTemplate(qwen, { template: file });
    expect(() => template.render(messages.slice(1), { addGenerationPrompt: false })).toThrow(
      expect.objectContaining({ code: "TOKENIZE_TEMPLATE_RENDER_FAILED", message: expect.stringContaining("first message must be system") }),
    );
  });

  it("TOKENIZE_TEMPLATE_INVALID and TOKENIZE_TEMPLATE_UNKNOWN", () => {
    const file = join(mkdtempSync(join(tmpdir(), "tk-tpl-")), "broken.jinja");
    writeFileSync(file, "{% for m in messages %}{{ m.content ");
    expect(() => loadChatTemplate(qwen, { template: file })).toThrow(expect.objectContaining({ code: "TOKENIZE_TEMPLATE_INVALID" }));
    expect(() => loadChatTemplate(qwen, { template: "vicuna-ish" })).toThrow(expect.objectContaining({ code: "TOKENIZE_TEMPLATE_UNKNOWN" }));
  });
});
