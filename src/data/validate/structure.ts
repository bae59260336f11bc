import { ROLES } from "../record.js";
import { IssueList, show, typeName } from "./issue.js";

/**
 * Structural checks of the canonical record (see src/data/record.ts), target-independent. Hand-written rather
 * than a zod parse: every problem needs its own path, message and fix, and this runs at >100k records/s.
 */
export type ShapeKind = "chat" | "text" | "preference";

const ROLE_SET = new Set<string>(ROLES);
const MESSAGE_KEYS = new Set(["role", "content", "name", "tool_calls", "tool_call_id", "weight"]);
const TOP_KEYS: Record<ShapeKind, Set<string>> = {
  chat: new Set(["messages", "tools", "metadata"]),
  text: new Set(["text", "metadata"]),
  preference: new Set(["input", "preferred_output", "non_preferred_output", "metadata"]),
};

export function detectShape(value: Record<string, unknown>): ShapeKind | undefined {
  if ("messages" in value) return "chat";
  if ("preferred_output" in value || "non_preferred_output" in value) return "preference";
  if ("text" in value) return "text";
  return undefined;
}

export function checkStructure(value: Record<string, unknown>, issues: IssueList): ShapeKind | undefined {
  const shape = detectShape(value);
  if (shape === undefined) {
    const keys = Object.keys(value).slice(0, 8).join(", ") || "none";
    issues.error("", "DATA_UNKNOWN_SHAPE",
      `record has no "messages", "text" or "preferred_output" (its keys: ${keys})`,
      "import the source with `tunekit data import`, which maps prompt/completion, Alpaca, ShareGPT and CSV into chat records");
    return undefined;
  }
  for (const key of Object.keys(value)) {
    if (!TOP_KEYS[shape].has(key)) {
      issues.warn(key, "DATA_UNKNOWN_KEY", `${key} is not a known ${shape} record key; it is ignored on export`,
        `move it under "metadata" to keep it, or remove it`);
    }
  }
  if (value.metadata !== undefined && typeName(value.metadata) !== "object") {
    issues.error("metadata", "DATA_WRONG_TYPE", `metadata is ${typeName(value.metadata)}, expected an object`,
      'make metadata an object, e.g. {"intent": "refund"}');
  }
  if (shape === "chat") {
    checkMessages(value.messages, "messages", issues);
    if (value.tools !== undefined) checkTools(value.tools, issues);
  } else if (shape === "text") {
    if (typeof value.text !== "string") {
      issues.error("text", "DATA_WRONG_TYPE", `text is ${typeName(value.text)}, expected a string`,
        "make text a string");
    } else if (value.text.trim() === "") {
      issues.error("text", "DATA_EMPTY_CONTENT", "text is empty", "remove the record or run `tunekit data clean`");
    }
  } else {
    const input = value.input;
    if (typeName(input) !== "object") {
      issues.error("input", "DATA_WRONG_TYPE", `input is ${typeName(input)}, expected an object with "messages"`,
        'write input as {"messages": [...]}');
    } else {
      checkMessages((input as Record<string, unknown>).messages, "input.messages", issues);
    }
    checkMessages(value.preferred_output, "preferred_output", issues);
    checkMessages(value.non_preferred_output, "non_preferred_output", issues);
  }
  return shape;
}

export function checkMessages(messages: unknown, path: string, issues: IssueList): void {
  if (!Array.isArray(messages)) {
    issues.error(path, "DATA_WRONG_TYPE", `${path} is ${typeName(messages)}, expected an array of messages`,
      `write ${path} as [{"role": "user", "content": "..."}, ...]`);
    return;
  }
  if (messages.length === 0) {
    issues.error(path, "DATA_EMPTY_MESSAGES", `${path} is empty`, "add at least one message or remove the record");
    return;
  }
  for (let i = 0; i < messages.length; i += 1) checkMessage(messages[i], `${path}[${i}]`, issues);
}

function checkMessage(message: unknown, path: string, issues: IssueList): void {
  if (typeName(message) !== "object") {
    issues.error(path, "DATA_WRONG_TYPE", `${path} is ${typeName(message)}, expected a message object`,
      'write each message as {"role": "...", "content": "..."}');
    return;
  }
  const m = message as Record<string, unknown>;
  const role = m.role;
  if (typeof role !== "string" || !ROLE_SET.has(role)) {
    issues.error(`${path}.role`, "DATA_INVALID_ROLE", `${path}.role ${show(role)} is not one of ${ROLES.join("|")}`,
      role === "bot" || role === "gpt" || role === "model"
        ? `use "assistant" (or import with a role mapping)`
        : role === "human" ? `use "user"` : `set role to one of ${ROLES.join(", ")}`);
  }
  const content = m.content;
  if (content === null || content === undefined) {
    const allowed = role === "assistant" && Array.isArray(m.tool_calls) && m.tool_calls.length > 0;
    if (!allowed) {
      issues.error(`${path}.content`, "DATA_MISSING_CONTENT", `${path}.content is ${show(content)}`,
        "give the message string content (only an assistant message with tool_calls may have null content)");
    }
  } else if (typeof content !== "string") {
    issues.error(`${path}.content`, "DATA_WRONG_TYPE", `${path}.content is ${typeName(content)}, expected a string`,
      "flatten content parts into one string");
  } else if (content.trim() === "" && !(Array.isArray(m.tool_calls) && m.tool_calls.length > 0)) {
    issues.error(`${path}.content`, "DATA_EMPTY_CONTENT", `${path}.content is empty`,
      "remove the empty turn (`tunekit data clean` does) or fill it in");
  }
  if (m.name !== undefined && typeof m.name !== "string") {
    issues.error(`${path}.name`, "DATA_WRONG_TYPE", `${path}.name is ${typeName(m.name)}, expected a string`,
      "make name a string or remove it");
  }
  if (m.weight !== undefined && m.weight !== 0 && m.weight !== 1) {
    issues.error(`${path}.weight`, "DATA_INVALID_WEIGHT", `${path}.weight ${show(m.weight)} is not 0 or 1`,
      "set weight to 0 (do not train on this turn) or 1 (train on it)");
  }
  if (m.tool_call_id !== undefined && typeof m.tool_call_id !== "string") {
    issues.error(`${path}.tool_call_id`, "DATA_WRONG_TYPE",
      `${path}.tool_call_id is ${typeName(m.tool_call_id)}, expected a string`, "make tool_call_id a string");
  }
  if (m.tool_calls !== undefined) checkToolCalls(m.tool_calls, `${path}.tool_calls`, issues);
  for (const key of Object.keys(m)) {
    if (!MESSAGE_KEYS.has(key)) {
      issues.warn(`${path}.${key}`, "DATA_UNKNOWN_KEY", `${path}.${key} is not a known message key`,
        "remove it, or move the information into the record's metadata");
    }
  }
}

function checkToolCalls(calls: unknown, path: string, issues: IssueList): void {
  if (!Array.isArray(calls)) {
    issues.error(path, "DATA_WRONG_TYPE", `${path} is ${typeName(calls)}, expected an array`,
      'write tool_calls as [{"id": "...", "type": "function", "function": {"name": "...", "arguments": "{...}"}}]');
    return;
  }
  calls.forEach((call, i) => {
    const p = `${path}[${i}]`;
    if (typeName(call) !== "object") {
      issues.error(p, "DATA_INVALID_TOOL_CALL", `${p} is ${typeName(call)}, expected an object`,
        'write {"id": "...", "type": "function", "function": {"name": "...", "arguments": "{...}"}}');
      return;
    }
    const c = call as Record<string, unknown>;
    if (typeof c.id !== "string") {
      issues.error(`${p}.id`, "DATA_INVALID_TOOL_CALL", `${p}.id is ${show(c.id)}, expected a string`,
        "give every tool call a string id that the tool message's tool_call_id refers to");
    }
    if (c.type !== "function") {
      issues.error(`${p}.type`, "DATA_INVALID_TOOL_CALL", `${p}.type ${show(c.type)} is not "function"`,
        'set type to "function"');
    }
    const fn = c.function as Record<string, unknown> | undefined;
    if (typeName(fn) !== "object") {
      issues.error(`${p}.function`, "DATA_INVALID_TOOL_CALL", `${p}.function is ${show(fn)}, expected an object`,
        'write {"name": "...", "arguments": "{...}"}');
      return;
    }
    if (typeof fn!.name !== "string" || fn!.name === "") {
      issues.error(`${p}.function.name`, "DATA_INVALID_TOOL_CALL", `${p}.function.name is ${show(fn!.name)}`,
        "give the function a non-empty name");
    }
    const args = fn!.arguments;
    if (typeof args !== "string") {
      issues.error(`${p}.function.arguments`, "DATA_TOOL_ARGUMENTS_NOT_STRING",
        `${p}.function.arguments is ${typeName(args)}, expected a JSON-encoded string`,
        "encode the arguments object as a string with JSON.stringify");
    } else {
      try {
        JSON.parse(args);
      } catch {
        issues.error(`${p}.function.arguments`, "DATA_TOOL_ARGUMENTS_INVALID_JSON",
          `${p}.function.arguments ${show(args)} is not valid JSON`, "make arguments a JSON object encoded as a string");
      }
    }
  });
}

function checkTools(tools: unknown, issues: IssueList): void {
  if (!Array.isArray(tools)) {
    issues.error("tools", "DATA_WRONG_TYPE", `tools is ${typeName(tools)}, expected an array`,
      'write tools as [{"type": "function", "function": {"name": "...", "parameters": {...}}}]');
    return;
  }
  tools.forEach((tool, i) => {
    const t = tool as Record<string, unknown>;
    const fn = typeName(tool) === "object" ? (t.function as Record<string, unknown> | undefined) : undefined;
    if (typeName(tool) !== "object" || t.type !== "function" || typeName(fn) !== "object" || typeof fn!.name !== "string") {
      issues.error(`tools[${i}]`, "DATA_INVALID_TOOL", `tools[${i}] is not {"type": "function", "function": {"name": …}}`,
        "describe each tool as a function with a name and JSON Schema parameters");
    } else if (fn!.parameters !== undefined && typeName(fn!.parameters) !== "object") {
      issues.error(`tools[${i}].function.parameters`, "DATA_INVALID_TOOL",
        `tools[${i}].function.parameters is ${typeName(fn!.parameters)}, expected a JSON Schema object`,
        "write parameters as a JSON Schema object");
    }
  });
}
