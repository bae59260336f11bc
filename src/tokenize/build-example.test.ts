import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { ChatRecord } from "../data/index.js";
import { buildExample, buildPrompt } from "./build-example.js";
import { loadChatTemplate, type ChatTemplate } from "./chat-template.js";
import { loadTokenizer, type Tokenizer } from "./load-tokenizer.js";
import { LLAMA3_DIR, QWEN3_DIR, STORIES_DIR } from "./testing/models.js";

const qwen = loadTokenizer(QWEN3_DIR);
const llama = loadTokenizer(LLAMA3_DIR);
const stories = loadTokenizer(STORIES_DIR);
const TINY: ChatRecord = {
  messages: [
    { role: "system", content: "Be brief." },
    { role: "user", content: "Hi" },
    { role: "assistant", content: "Hello!" },
    { role: "user", content: "Bye" },
    { role: "assistant", content: "Bye 👋" },
  ],
};

/** The trained text of an example: each maximal trained run, decoded from the text by offsets. */
function trainedRuns(ex: Awaited<ReturnType<typeof buildExample>>): string[] {
  const runs: string[] = [];
  let current: string | null = null;
  let covered = 0;
  for (let t = 0; t < ex.ids.length; t++) {
    // Byte-level tokens of one emoji share its offsets: take each character once.
    const piece = ex.text.slice(Math.max(covered, ex.offsets[2 * t]), ex.offsets[2 * t + 1]);
    covered = Math.max(covered, ex.offsets[2 * t + 1]);
    if (ex.mask[t]) current = (current ?? "") + piece;
    else if (current !== null) {
      runs.push(current);
      current = null;
    }
  }
  if (current !== null) runs.push(current);
  return runs;
}

const build = (record: ChatRecord | { text: string }, tokenizer: Tokenizer, template?: ChatTemplate, extra: object = {}) =>
  buildExample(record, { tokenizer, template: template ?? loadChatTemplate(tokenizer), ...extra });

describe("loss masks from rendering", () => {
  it("Qwen3: assistant turns and <|im_end|> only, whole arrays", async () => {
    const ex = await build(TINY, qwen);
    expect(ex.ids).toEqual([151644, 8948, 198, 3430, 9814, 13, 151645, 198, 151644, 872, 198, 13048, 151645, 198, 151644, 77091, 198, 9707, 0, 151645, 198, 151644, 872, 198, 1359, 68, 151645, 198, 151644, 77091, 198, 151667, 271, 151668, 271, 1359, 68, 61804, 233, 151645, 198]);
    expect([...ex.mask]).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0]);
    expect(trainedRuns(ex)).toEqual(["Hello!<|im_end|>", "<think>\n\n</think>\n\nBye 👋<|im_end|>"]);
    expect(ex.warnings).toEqual([]);
  });

  it("Llama 3: assistant turns and <|eot_id|>; the template's trailing header stays untrained", async () => {
    const ex = await build(TINY, llama);
    expect(ex.ids).toEqual([128000, 128006, 9125, 128007, 271, 3513, 10015, 13, 128009, 128006, 882, 128007, 271, 13347, 128009, 128006, 78191, 128007, 271, 9906, 0, 128009, 128006, 882, 128007, 271, 1383, 68, 128009, 128006, 78191, 128007, 271, 1383, 68, 62904, 233, 128009, 128006, 78191, 128007, 271]);
    expect([...ex.mask]).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 0, 0, 0, 0]);
  });

  it("weight: 0 turns are context only", async () => {
    const record: ChatRecord = { messages: TINY.messages.map((m, i) => (i === 2 ? { ...m, weight: 0 as const } : m)) };
    expect(trainedRuns(await build(record, qwen))).toEqual(["<think>\n\n</think>\n\nBye 👋<|im_end|>"]);
  });

  it("tools: the tool-call turn is trained, tool results and the tools system block are not", async () => {
    const record: ChatRecord = {
      tools: [{ type: "function", function: { name: "get_weather", parameters: { type: "object", properties: { city: { type: "string" } } } } }],
      messages: [
        { role: "user", content: "Weather in Paris?" },
        { role: "assistant", content: null, tool_calls: [{ id: "c1", type: "function", function: { name: "get_weather", arguments: '{"city":"Paris"}' } }] },
        { role: "tool", content: '{"temp":21}', tool_call_id: "c1" },
        { role: "assistant", content: "21°C." },
      ],
    };
    const ex = await build(record, qwen);
    expect(trainedRuns(ex)).toEqual([
      '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call><|im_end|>',
      "<think>\n\n</think>\n\n21°C.<|im_end|>",
    ]);
    // Llama 3.0's template drops tool calls: said, not silently trained as an empty turn.
    const l = await build(record, llama);
    expect(l.warnings.map((w) => w.code)).toEqual(["tool_calls_dropped"]);
  });

  it("text records train on every token, with BOS and an appended EOS", async () => {
    const ex = await build({ text: "Once upon a time" }, stories);
    expect(ex.ids).toEqual([1, 403, 407, 261, 378, 2]);
    expect([...ex.mask]).toEqual([1, 1, 1, 1, 1, 1]);
  });

  it("trainOn all trains every token of a chat", async () => {
    const ex = await build(TINY, qwen, undefined, { trainOn: "all" });
    expect([...ex.mask]).toEqual(new Array(ex.ids.length).fill(1));
  });

  it("Qwen3 enable_thinking=false: older turns are rewritten, so the per-turn fallback masks them and warns", async () => {
    const record: ChatRecord = { messages: [TINY.messages[1], { role: "assistant", content: "<think>\nplan\n</think>\n\nHello!" }, TINY.messages[3], TINY.messages[4]] };
    const ex = await build(record, qwen, undefined, { variables: { enable_thinking: false } });
    // The older turn's think block is stripped by the template; only its answer and <|im_end|> train.
    expect(trainedRuns(ex)).toEqual(["Hello!<|im_end|>", "Bye 👋<|im_end|>"]);
    expect(ex.warnings.map((w) => [w.code, w.turn])).toEqual([["prefix_mismatch", 1]]);
  });

  it("TOKENIZE_MASK_UNRESOLVED when no rendering locates the turn", async () => {
    // A template that renders messages in reverse: no prefix is ever a prefix.
    const template: ChatTemplate = {
      ...loadChatTemplate(qwen, { template: "chatml" }),
      render: (messages, o) => [...messages].reverse().map((m) => `<|im_start|>${m.role}\n${m.content}<|im_end|>\n`).join("") + (o.addGenerationPrompt ? "<|im_start|>assistant\n" : ""),
    };
    await expect(build(TINY, qwen, template)).rejects.toMatchObject({ code: "TOKENIZE_MASK_UNRESOLVED" });
  });

  it("warns: a template without EOS (ChatML on stories260k), a zero-trained turn, a doubled BOS", async () => {
    const ex = await build(TINY, stories);
    expect(ex.ids[0]).toBe(1);
    expect(ex.warnings.map((w) => w.code)).toEqual(["no_end_of_turn"]);
    // A template that renders assistant turns as a bare header: nothing to train, no end of turn.
    const file = join(mkdtempSync(join(tmpdir(), "tk-tpl-")), "bare.jinja");
    writeFileSync(file, "{% for m in messages %}<|im_start|>{{ m.role }}\n{% if m.role != 'assistant' %}{{ m.content }}<|im_end|>\n{% endif %}{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}");
    const bare = await build({ messages: [{ role: "user", content: "Hi" }, { role: "assistant", content: "Hello" }] }, qwen, loadChatTemplate(qwen, { template: file }));
    expect(bare.warnings.map((w) => w.code)).toEqual(["no_end_of_turn", "zero_trained_turn", "no_end_of_turn"]);
    const doubled: ChatTemplate = { ...loadChatTemplate(llama), render: (m, o) => `<|begin_of_text|>${loadChatTemplate(llama).render(m, o)}` };
    expect((await build(TINY, llama, doubled)).warnings.map((w) => w.code)).toEqual(["doubled_bos"]);
  });
});

describe("buildPrompt: inference prompts by training's rule", () => {
  const prefixBeforeAnswer = (ex: Awaited<ReturnType<typeof buildExample>>, turn: number) => {
    let seen = -1;
    for (let t = 0; t < ex.ids.length; t++) if (ex.mask[t] === 1 && (t === 0 || ex.mask[t - 1] === 0) && ++seen === turn) return ex.ids.slice(0, t);
    throw new Error(`no trained turn ${turn}`);
  };

  for (const [name, tokenizer, template] of [
    ["stories260k (chatml fallback, BOS from the template)", stories, undefined],
    ["Qwen3 (its own template, no BOS)", qwen, undefined],
    ["Llama 3 (its own template, <|begin_of_text|> in it)", llama, undefined],
  ] as const) {
    it(`${name}: a chat prompt is the trained example's ids before each answer`, async () => {
      const chatTemplate = loadChatTemplate(tokenizer, { template });
      const example = await buildExample(TINY, { tokenizer, template: chatTemplate });
      const first = await buildPrompt({ messages: TINY.messages.slice(0, 2) }, { tokenizer, template: chatTemplate });
      const second = await buildPrompt({ messages: TINY.messages.slice(0, 4) }, { tokenizer, template: chatTemplate });
      expect([first.ids, second.ids]).toEqual([prefixBeforeAnswer(example, 0), prefixBeforeAnswer(example, 1)]);
      if (tokenizer.bosId !== null) expect(first.ids[1]).not.toBe(tokenizer.bosId);
    });
  }

  it("a text prompt gets the tokenizer's BOS once and no EOS", async () => {
    expect(await buildPrompt({ text: "Once upon a time" }, { tokenizer: stories })).toEqual({
      kind: "text",
      text: "Once upon a time",
      ids: [stories.bosId, ...(await stories.encode("Once upon a time"))],
    });
  });
});
