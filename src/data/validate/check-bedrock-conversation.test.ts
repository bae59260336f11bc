import { describe, expect, it } from "vitest";
import { Validator, validateRecords } from "./validator.js";
import type { TargetName } from "./target.js";

const chat = (...turns: [string, string | null][]) => ({ messages: turns.map(([role, content]) => ({ role, content })) });
const good = chat(["system", "Be brief."], ["user", "Hi"], ["assistant", "Hello!"]);
const codes = (value: object, target: TargetName, model?: string) => new Validator({ target, model }).check(value as Record<string, unknown>, 1).items.map((i) => [i.path, i.code, i.severity]);
async function* many(record: object, n: number) {
  for (let i = 0; i < n; i += 1) yield record;
}

describe("bedrock-nova", () => {
  it("accepts system + alternating multi-turn text", () => {
    expect(codes(chat(["system", "s"], ["user", "a"], ["assistant", "b"], ["user", "c"], ["assistant", "d"]), "bedrock-nova")).toEqual([]);
  });
  it("requires user first, alternation, assistant last, text in every turn, no extra keys", () => {
    const v = { messages: [{ role: "assistant", content: "hi" }, { role: "user", content: "q", name: "bob" }, { role: "user", content: "q2" }] };
    expect(codes(v, "bedrock-nova")).toEqual([
      ["messages[0].role", "DATA_BEDROCK_NOT_ALTERNATING", "error"],
      ["messages[1].role", "DATA_BEDROCK_NOT_ALTERNATING", "error"],
      ["messages[1].name", "DATA_BEDROCK_EXTRA_KEY", "error"],
      ["messages[2]", "DATA_BEDROCK_LAST_NOT_ASSISTANT", "error"],
    ]);
    // an assistant turn that only calls tools has no text to learn
    const toolCall = { messages: [{ role: "user", content: "q" }, { role: "assistant", content: null, tool_calls: [{ id: "c1", type: "function", function: { name: "f", arguments: "{}" } }] }] };
    expect(codes(toolCall, "bedrock-nova")).toEqual([
      ["messages[1].tool_calls", "DATA_BEDROCK_EXTRA_KEY", "error"],
      ["messages[1].content", "DATA_BEDROCK_EMPTY_CONTENT", "error"],
    ]);
  });
  it("refuses Nova's reserved terms with a fix", () => {
    const [issue] = new Validator({ target: "bedrock-nova" }).check(chat(["user", "Ask the Bot: why?"], ["assistant", "ok"]) as never).items;
    expect(issue).toEqual({
      line: undefined, path: "messages[0].content", code: "DATA_BEDROCK_FORBIDDEN_TEXT", severity: "error",
      message: 'messages[0].content contains "Bot:", a term Amazon Nova reserves (the job would fail on it)',
      fix: 'replace "Bot:" with a word of similar meaning (e.g. "bot -")',
    });
  });
  it("needs at least 8 and at most 20,000 training records, naming the model", async () => {
    const few = await validateRecords(many(good, 7), { target: "bedrock-nova", model: "amazon.nova-micro-v1:0:128k" });
    expect(few.byKind.map((k) => [k.code, k.example.message])).toEqual([["DATA_TOO_FEW_EXAMPLES", "7 valid records; Amazon Nova (amazon.nova-micro-v1:0:128k) needs at least 8"]]);
    expect((await validateRecords(many(good, 8), { target: "bedrock-nova" })).ok).toBe(true);
    const lots = await validateRecords(many(good, 20_001), { target: "bedrock-nova" });
    expect(lots.byKind.map((k) => k.code)).toEqual(["DATA_TOO_MANY_EXAMPLES"]);
  });
  it("counts tokens against the per-record limit", () => {
    const long = chat(["user", "word ".repeat(33_000)], ["assistant", "ok"]);
    expect(codes(long, "bedrock-nova")).toEqual([["messages", "DATA_TOO_MANY_TOKENS", "error"]]);
  });
});

describe("bedrock-llama", () => {
  it("accepts one exchange and warns that the system message is folded into the prompt", () => {
    expect(codes(chat(["user", "Hi"], ["assistant", "Hello"]), "bedrock-llama")).toEqual([]);
    expect(codes(good, "bedrock-llama")).toEqual([["messages", "DATA_BEDROCK_SYSTEM_FOLDED", "warning"]]);
  });
  it("refuses multi-turn records and points to bedrock-nova", () => {
    const [issue] = new Validator({ target: "bedrock-llama" }).check(chat(["user", "a"], ["assistant", "b"], ["user", "c"], ["assistant", "d"]) as never).items;
    expect([issue!.code, issue!.fix]).toEqual(["DATA_BEDROCK_MULTI_TURN", "keep one exchange per record (split conversations into records), or use --target bedrock-nova, which takes multi-turn conversations"]);
  });
  it("estimates tokens at 6 characters each, as Bedrock documents", () => {
    const [issue] = new Validator({ target: "bedrock-llama", model: "meta.llama3-1-8b-instruct-v1:0" }).check(chat(["user", "x".repeat(96_001)], ["assistant", "y"]) as never).items;
    expect(issue!.message).toBe("the record has about 16001 tokens (96002 characters ÷ 6), over 16000 (meta.llama3-1-8b-instruct-v1:0:128k)");
  });
  it("rejects text records", () => {
    expect(codes({ text: "a document" }, "bedrock-llama")).toEqual([["", "DATA_WRONG_RECORD_KIND", "error"]]);
  });
});
