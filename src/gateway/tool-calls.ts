import { randomUUID } from "node:crypto";

/** A tool call in OpenAI's response shape (`choices[0].message.tool_calls[i]`). */
export interface ResponseToolCall {
  id: string;
  type: "function";
  function: { name: string; arguments: string };
}

export interface ParsedReply {
  /** The text around the calls (null when the reply is only calls, as OpenAI sends it). */
  content: string | null;
  toolCalls: ResponseToolCall[];
}

const HERMES_OPEN = "<tool_call>";
const HERMES = /<tool_call>\s*([\s\S]*?)\s*<\/tool_call>/g;
const LLAMA3_TAG = "<|python_tag|>";

/**
 * The tool calls a local model wrote in its chat template's format: Qwen / Hermes `<tool_call>{"name": …,
 * "arguments": {…}}</tool_call>` (any number, text around them is content), or Llama 3's JSON reply
 * `{"name": …, "parameters": {…}}` (the whole reply, optionally after `<|python_tag|>`). A block whose JSON does
 * not parse or has no name is left as text: the model did not make a call we could run.
 */
export function parseToolCalls(text: string): ParsedReply {
  const calls: ResponseToolCall[] = [];
  const rest = text.replace(HERMES, (whole, json: string) => {
    const call = toCall(json);
    if (!call) return whole;
    calls.push(call);
    return "";
  });
  if (calls.length) return { content: rest.trim() || null, toolCalls: calls };
  const trimmed = text.trim();
  const body = trimmed.startsWith(LLAMA3_TAG) ? trimmed.slice(LLAMA3_TAG.length).trim() : trimmed;
  if (body.startsWith("{")) {
    // Llama 3.1 may put several calls on separate lines / separated by ";".
    const parts = body.split(/\n|;(?=\s*\{)/).map((p) => p.trim()).filter(Boolean);
    const parsed = parts.map(toCall);
    if (parsed.length && parsed.every((c) => c !== null)) return { content: null, toolCalls: parsed as ResponseToolCall[] };
  }
  return { content: text, toolCalls: [] };
}

/**
 * How much of a growing reply may be streamed as content while tools are offered: everything before a call
 * could start. A `<tool_call>` (or the start of one at the very end) holds the rest; a reply that begins like
 * a Llama 3 JSON call holds everything until the end shows what it was.
 */
export function streamableContent(text: string): number {
  const lead = text.trimStart();
  if (lead.startsWith("{") || lead.startsWith(LLAMA3_TAG) || (lead.length > 0 && LLAMA3_TAG.startsWith(lead))) return 0;
  let cut = text.indexOf(HERMES_OPEN);
  for (let k = Math.min(HERMES_OPEN.length - 1, text.length); cut < 0 && k > 0; k--) {
    if (text.endsWith(HERMES_OPEN.slice(0, k))) cut = text.length - k;
  }
  if (cut < 0) cut = text.length;
  // Whitespace right before a call is not content (OpenAI sends none); before more text it goes out with it.
  while (cut > 0 && /\s/.test(text[cut - 1])) cut--;
  return cut;
}

function toCall(json: string): ResponseToolCall | null {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    return null;
  }
  if (!value || typeof value !== "object" || Array.isArray(value)) return null;
  const v = value as { name?: unknown; arguments?: unknown; parameters?: unknown };
  if (typeof v.name !== "string" || v.name.length === 0) return null;
  const args = v.arguments ?? v.parameters ?? {};
  return { id: `call_${randomUUID().replace(/-/g, "").slice(0, 24)}`, type: "function", function: { name: v.name, arguments: typeof args === "string" ? args : JSON.stringify(args) } };
}
