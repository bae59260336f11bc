import { describe, expect, it } from "vitest";
import { validateChatRequest } from "./chat-request.js";

const bad = (body: Record<string, unknown>) => {
  try {
    validateChatRequest(body);
  } catch (e) {
    return { code: (e as { code: string }).code, details: (e as { details: unknown }).details };
  }
  return null;
};

describe("validateChatRequest", () => {
  it("accepts the documented shapes and keeps unknown fields", () => {
    const body = {
      model: "m",
      messages: [
        { role: "developer", content: "rules" },
        { role: "user", content: [{ type: "text", text: "look" }, { type: "image_url", image_url: { url: "data:image/png;base64,AA" } }] },
        { role: "assistant", content: [{ type: "refusal", refusal: "no" }] },
      ],
      n: 2,
      top_p: 0.5,
      stream: false,
      tool_choice: "auto",
      tools: [{ type: "function", function: { name: "get_weather", parameters: { type: "object" } } }],
      response_format: { type: "json_object" },
      x_vendor: true,
    };
    expect(validateChatRequest(body)).toEqual(body);
  });

  it("names every problem, and the first offending param", () => {
    expect(bad({ messages: [{ role: "user", content: 42 }], max_tokens: 0, n: 1.5 })).toEqual({
      code: "GATEWAY_BAD_REQUEST",
      details: {
        param: "messages[0].content",
        problems: [
          "messages[0].content: expected a string or a non-empty list of content parts ({type: 'text', text: '…'}, …)",
          "max_tokens: Too small: expected number to be >0",
          "n: Invalid input: expected int, received number",
        ],
      },
    });
  });

  it("refuses an unknown role, a tool message without tool_call_id and more than 4 stop sequences", () => {
    expect(bad({ messages: [{ role: "robot", content: "x" }] })?.details).toMatchObject({ param: "messages[0].role" });
    expect(bad({ messages: [{ role: "tool", content: "x" }] })?.details).toMatchObject({ param: "messages[0].tool_call_id" });
    expect(bad({ messages: [{ role: "user", content: "x" }], stop: ["a", "b", "c", "d", "e"] })?.details).toMatchObject({ param: "stop" });
  });
});
