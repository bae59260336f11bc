import type { Message } from "../record.js";
import type { TargetName } from "../validate/target.js";
import { BEDROCK_NOVA_RULES } from "../validate/rules/bedrock.js";

/**
 * Canonical record → the line a provider expects. Metadata never leaves tunekit; keys are written in the
 * order the providers document them.
 */
type Rec = Record<string, unknown>;

function openAiMessage(m: Message): Rec {
  const out: Rec = { role: m.role, content: m.content };
  if (m.name !== undefined) out.name = m.name;
  if (m.tool_calls !== undefined) out.tool_calls = m.tool_calls;
  if (m.tool_call_id !== undefined) out.tool_call_id = m.tool_call_id;
  if (m.weight !== undefined) out.weight = m.weight;
  return out;
}

export function toTargetLine(record: Rec, target: TargetName): Rec {
  if (Array.isArray(record.messages)) {
    const messages = record.messages as Message[];
    switch (target) {
      case "bedrock": {
        let start = 0;
        const system: string[] = [];
        while (start < messages.length && messages[start]!.role === "system") system.push(messages[start++]!.content ?? "");
        const out: Rec = {};
        if (system.length > 0) out.system = system.join("\n\n");
        out.messages = messages.slice(start).map((m) => ({ role: m.role, content: m.content }));
        return out;
      }
      case "bedrock-nova": {
        // bedrock-conversation-2024: system and every turn's content are lists of text blocks.
        let start = 0;
        const system: Rec[] = [];
        while (start < messages.length && messages[start]!.role === "system") system.push({ text: messages[start++]!.content ?? "" });
        return {
          schemaVersion: BEDROCK_NOVA_RULES.schemaVersion,
          ...(system.length > 0 ? { system } : {}),
          messages: messages.slice(start).map((m) => ({ role: m.role, content: [{ text: m.content ?? "" }] })),
        };
      }
      case "bedrock-llama": {
        // One exchange (validated); leading system text goes before the user prompt, as the validator warns.
        const system = messages.filter((m) => m.role === "system").map((m) => m.content ?? "");
        const user = messages.find((m) => m.role === "user")?.content ?? "";
        const reply = messages.find((m) => m.role === "assistant")?.content ?? "";
        return { prompt: [...system, user].join("\n\n"), completion: reply };
      }
      case "together":
        return { messages: messages.map((m) => (m.weight === undefined ? { role: m.role, content: m.content } : { role: m.role, content: m.content, weight: m.weight })) };
      default: {
        const out: Rec = { messages: messages.map(openAiMessage) };
        if (record.tools !== undefined) out.tools = record.tools;
        return out;
      }
    }
  }
  if ("preferred_output" in record) {
    const input = record.input as { messages: Message[]; tools?: unknown };
    const out: Rec = { input: { messages: input.messages.map(openAiMessage), ...(input.tools ? { tools: input.tools } : {}) } };
    out.preferred_output = (record.preferred_output as Message[]).map(openAiMessage);
    out.non_preferred_output = (record.non_preferred_output as Message[]).map(openAiMessage);
    return out;
  }
  return { text: record.text };
}
