import { describe, expect, it } from "vitest";
import { Validator, validateRecords } from "./validator.js";
import { formatIssue } from "./issue.js";
import type { TargetName } from "./target.js";

const chat = (...turns: [string, string][]) => ({ messages: turns.map(([role, content]) => ({ role, content })) });
const good = chat(["system", "Be brief."], ["user", "Hi"], ["assistant", "Hello!"]);

function issuesOf(value: object, target?: TargetName) {
  return new Validator({ target }).check(value as Record<string, unknown>, 7).items;
}
async function many(record: object, n: number) {
  async function* gen() { for (let i = 0; i < n; i += 1) yield record; }
  return gen();
}

describe("canonical structure", () => {
  it("accepts a good chat record", () => {
    expect(issuesOf(good)).toEqual([]);
  });

  it("reports a bad role with line, path, message and fix", () => {
    const [issue] = issuesOf(chat(["user", "a"], ["assistant", "b"], ["user", "c"], ["bot", "d"]));
    expect(issue).toEqual({
      line: 7, path: "messages[3].role", code: "DATA_INVALID_ROLE", severity: "error",
      message: 'messages[3].role "bot" is not one of system|user|assistant|tool',
      fix: 'use "assistant" (or import with a role mapping)',
    });
    expect(formatIssue(issue!, false)).toBe('line 7: messages[3].role "bot" is not one of system|user|assistant|tool');
  });

  it("reports wrong types at any depth", () => {
    const value = { messages: [{ role: "assistant", content: null, tool_calls: [{ id: "c1", type: "function", function: { name: "f", arguments: { a: 1 } } }] }] };
    expect(issuesOf(value).map((i) => [i.path, i.code])).toEqual([
      ["messages[0].tool_calls[0].function.arguments", "DATA_TOOL_ARGUMENTS_NOT_STRING"],
    ]);
    expect(issuesOf({ messages: "hi" }).map((i) => i.message)).toEqual(["messages is string, expected an array of messages"]);
    expect(issuesOf({ messages: [{ role: "user", content: 5 }] }).map((i) => i.message)).toEqual([
      "messages[0].content is number, expected a string",
    ]);
    expect(issuesOf({ text: "x", metadata: [] }).map((i) => i.code)).toEqual(["DATA_WRONG_TYPE"]);
  });

  it("reports records of unknown shape and unknown keys", () => {
    expect(issuesOf({ prompt: "a", completion: "b" })[0]!.message).toBe(
      'record has no "messages", "text" or "preferred_output" (its keys: prompt, completion)');
    expect(issuesOf({ ...good, extra: 1 })).toEqual([{
      line: 7, path: "extra", code: "DATA_UNKNOWN_KEY", severity: "warning",
      message: "extra is not a known chat record key; it is ignored on export", fix: 'move it under "metadata" to keep it, or remove it',
    }]);
  });

  it("reports weights other than 0/1 and empty content", () => {
    const v = { messages: [{ role: "user", content: " " }, { role: "assistant", content: "x", weight: 0.5 }] };
    expect(issuesOf(v).map((i) => i.code)).toEqual(["DATA_EMPTY_CONTENT", "DATA_INVALID_WEIGHT"]);
  });
});

describe("openai", () => {
  it("rejects weight on non-assistant messages and tool messages without tool_call_id", () => {
    const v = { messages: [
      { role: "user", content: "q", weight: 1 },
      { role: "assistant", content: null, tool_calls: [{ id: "c1", type: "function", function: { name: "f", arguments: "{}" } }] },
      { role: "tool", content: "42" },
      { role: "tool", content: "43", tool_call_id: "nope" },
      { role: "assistant", content: "done" },
    ] };
    expect(issuesOf(v, "openai").map((i) => [i.path, i.code])).toEqual([
      ["messages[0].weight", "DATA_WEIGHT_NOT_ASSISTANT"],
      ["messages[2].tool_call_id", "DATA_TOOL_CALL_ID_MISSING"],
      ["messages[3].tool_call_id", "DATA_TOOL_CALL_ID_UNKNOWN"],
    ]);
  });

  it("requires an assistant turn and chat records", () => {
    expect(issuesOf(chat(["user", "q"]), "openai").map((i) => i.code)).toEqual(["DATA_NO_ASSISTANT"]);
    expect(issuesOf({ text: "doc" }, "openai").map((i) => i.code)).toEqual(["DATA_WRONG_RECORD_KIND"]);
  });

  it("counts tokens against the model's per-example limit", () => {
    const long = chat(["user", "word ".repeat(17_000)], ["assistant", "ok"]);
    expect(issuesOf(long, "openai")).toEqual([]); // 65,536 for gpt-4o-mini
    const issues = new Validator({ target: "openai", model: "gpt-3.5-turbo-0125" }).check(long).items;
    expect(issues.map((i) => i.code)).toEqual(["DATA_TOO_MANY_TOKENS"]);
    expect(issues[0]!.message).toMatch(/^the example has 170\d\d tokens \(cl100k_base\), over gpt-3.5-turbo-0125's limit of 16385$/);
  });

  it("rejects an unknown model up front", () => {
    expect(() => new Validator({ target: "openai", model: "gpt-9" })).toThrow(/no OpenAI fine-tuning token limit/);
  });

  it("needs at least 10 examples", async () => {
    const summary = await validateRecords(await many(good, 9), { target: "openai" });
    expect(summary.ok).toBe(false);
    expect(summary.byKind.map((k) => [k.code, k.count])).toEqual([["DATA_TOO_FEW_EXAMPLES", 1]]);
    const fifty = await validateRecords(await many(good, 50), { target: "openai" });
    expect({ ok: fifty.ok, valid: fifty.valid, errors: fifty.errors, warnings: fifty.warnings }).toEqual({ ok: true, valid: 50, errors: 0, warnings: 0 });
  });
});

describe("openai-dpo", () => {
  it("checks the output shape", () => {
    const v = { input: chat(["user", "q"]), preferred_output: [{ role: "assistant", content: "a" }], non_preferred_output: [{ role: "user", content: "b" }] };
    expect(issuesOf(v, "openai-dpo").map((i) => [i.path, i.code])).toEqual([["non_preferred_output", "DATA_DPO_OUTPUT_SHAPE"]]);
  });
});

describe("bedrock", () => {
  it("accepts system + alternating turns", () => {
    expect(issuesOf(good, "bedrock")).toEqual([]);
  });
  it("requires user first, alternation, assistant last, no extra keys, no turn markers", () => {
    const v = { messages: [
      { role: "assistant", content: "hi" },
      { role: "user", content: "q\nHuman: x", name: "bob" },
      { role: "user", content: "q2" },
    ] };
    expect(issuesOf(v, "bedrock").map((i) => [i.path, i.code])).toEqual([
      ["messages[0].role", "DATA_BEDROCK_NOT_ALTERNATING"],
      ["messages[1].role", "DATA_BEDROCK_NOT_ALTERNATING"],
      ["messages[1].name", "DATA_BEDROCK_EXTRA_KEY"],
      ["messages[2]", "DATA_BEDROCK_LAST_NOT_ASSISTANT"],
      ["messages[1].content", "DATA_BEDROCK_FORBIDDEN_TEXT"],
    ]);
  });
  it("needs at least 2 messages and 32..10,000 records", async () => {
    expect(issuesOf(chat(["system", "s"], ["assistant", "a"]), "bedrock").map((i) => i.code)).toEqual([
      "DATA_BEDROCK_TOO_FEW_MESSAGES", "DATA_BEDROCK_NOT_ALTERNATING"]);
    const few = await validateRecords(await many(good, 31), { target: "bedrock" });
    expect(few.byKind.map((k) => k.code)).toEqual(["DATA_TOO_FEW_EXAMPLES"]);
    const lots = await validateRecords(await many(good, 10_001), { target: "bedrock" });
    expect(lots.byKind.map((k) => k.code)).toEqual(["DATA_TOO_MANY_EXAMPLES"]);
    // data split has no --train-count: the fix sizes val and test so train keeps at most 10,000.
    expect(lots.byKind[0]!.example.fix).toBe(
      "hold at least 1 records out of training: `tunekit data split NAME --val-count 250 --test-count 251` (train gets the rest), " +
        "then `tunekit data export NAME --target bedrock`, which counts only the train split; or remove duplicates with `tunekit data dedupe NAME`");
  });
});

describe("together and hf", () => {
  it("together accepts text and rejects tool turns", () => {
    expect(issuesOf({ text: "a document" }, "together")).toEqual([]);
    expect(issuesOf({ messages: [{ role: "user", content: "q" }, { role: "tool", content: "x", tool_call_id: "a" }] }, "together")
      .map((i) => i.code)).toEqual(["DATA_TOGETHER_ROLE", "DATA_TOGETHER_EXTRA_KEY", "DATA_NO_ASSISTANT"]);
  });
  it("hf reports what the chat template refuses", () => {
    const renderChat = (r: { messages: { role: string }[] }) => {
      if (r.messages[0]!.role === "system") throw new Error("System role not supported");
      return r.messages.map((m) => m.role).join("|");
    };
    const v = new Validator({ target: "hf", renderChat: renderChat as never, maxTokens: 3, countTokens: (t) => t.split("|").length });
    expect(v.check(good).items.map((i) => i.message)).toEqual(["the chat template cannot render this record: System role not supported"]);
    expect(v.check(chat(["user", "a"], ["assistant", "b"], ["user", "c"], ["assistant", "d"])).items.map((i) => i.code)).toEqual(["DATA_TOO_MANY_TOKENS"]);
    expect(() => new Validator({ target: "hf" }).check(good)).toThrow(/chat template/);
  });
});
