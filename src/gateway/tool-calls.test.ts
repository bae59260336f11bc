import { describe, expect, it } from "vitest";
import { parseToolCalls, streamableContent } from "./tool-calls.js";

const shape = (r: ReturnType<typeof parseToolCalls>) => ({ content: r.content, calls: r.toolCalls.map((c) => [c.type, c.function.name, c.function.arguments, /^call_[0-9a-f]{24}$/.test(c.id)]) });

describe("parseToolCalls", () => {
  it("reads Hermes / Qwen <tool_call> blocks and keeps the text around them as content", () => {
    expect(shape(parseToolCalls('<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>'))).toEqual({
      content: null,
      calls: [["function", "get_weather", '{"city":"Paris"}', true]],
    });
    expect(shape(parseToolCalls('Let me check.\n<tool_call>{"name":"a","arguments":{}}</tool_call><tool_call>{"name":"b","arguments":"{\\"x\\":1}"}</tool_call>'))).toEqual({
      content: "Let me check.",
      calls: [["function", "a", "{}", true], ["function", "b", '{"x":1}', true]],
    });
  });

  it("reads Llama 3 JSON calls (with or without <|python_tag|>)", () => {
    expect(shape(parseToolCalls('{"name": "get_weather", "parameters": {"city": "Oslo"}}'))).toEqual({ content: null, calls: [["function", "get_weather", '{"city":"Oslo"}', true]] });
    expect(shape(parseToolCalls('<|python_tag|>{"name": "a", "parameters": {}}; {"name": "b", "parameters": {"k": 2}}'))).toEqual({
      content: null,
      calls: [["function", "a", "{}", true], ["function", "b", '{"k":2}', true]],
    });
  });

  it("leaves text that is not a well-formed call as content", () => {
    for (const text of ["Hello there", "<tool_call>{not json}</tool_call>", '<tool_call>{"arguments": {}}</tool_call>', '{"answer": 42}', "{ broken"]) {
      expect(shape(parseToolCalls(text))).toEqual({ content: text, calls: [] });
    }
  });
});

describe("streamableContent", () => {
  it("streams text up to where a call could begin", () => {
    expect(streamableContent("Sure, checking")).toBe(14);
    expect(streamableContent("Sure <tool_call>{")).toBe(4);
    expect(streamableContent("Sure <tool_")).toBe(4);
    expect(streamableContent(" <")).toBe(0);
    expect(streamableContent("Sure, and ")).toBe(9);
    expect(streamableContent(' {"name"')).toBe(0);
    expect(streamableContent("<|pyth")).toBe(0);
    expect(streamableContent("")).toBe(0);
    expect(streamableContent(" \n")).toBe(0);
  });
});
