import type { DatasetRecord, Message } from "../record.js";

/**
 * JSONL source shapes tunekit recognises, and how each maps into the canonical record. A mapper returns the
 * record, or a string saying what is missing (reported against the line; nothing is dropped silently).
 */
export const JSONL_SHAPES = ["chat", "preference", "text", "prompt-completion", "alpaca", "sharegpt"] as const;
export type JsonlShape = (typeof JSONL_SHAPES)[number];

export const SHAPE_LABELS: Record<JsonlShape, string> = {
  chat: "OpenAI chat JSONL",
  preference: "preference-pair JSONL (OpenAI DPO)",
  text: "plain text JSONL",
  "prompt-completion": "prompt/completion JSONL",
  alpaca: "Alpaca instruction JSONL",
  sharegpt: "ShareGPT JSONL",
};

export const SHAPE_EVIDENCE: Record<JsonlShape, string> = {
  chat: "have a messages array",
  preference: "have input + preferred_output",
  text: 'have a "text" string',
  "prompt-completion": "have prompt and completion",
  alpaca: "have instruction and output",
  sharegpt: "have a conversations array of {from, value}",
};

/** Which shape a parsed line has, if any; cheap, used for detection and per line. */
export function shapeOf(value: Record<string, unknown>): JsonlShape | undefined {
  if (Array.isArray(value.messages)) return "chat";
  if ("preferred_output" in value && "input" in value) return "preference";
  if (Array.isArray(value.conversations)) return "sharegpt";
  if ("instruction" in value && "output" in value) return "alpaca";
  if ("prompt" in value && "completion" in value) return "prompt-completion";
  if (typeof value.text === "string") return "text";
  return undefined;
}

const SHAREGPT_ROLES: Record<string, Message["role"]> = {
  human: "user", user: "user", gpt: "assistant", assistant: "assistant", chatgpt: "assistant", bing: "assistant",
  bard: "assistant", model: "assistant", system: "system", function_call: "assistant", observation: "tool", tool: "tool",
};

/** Keys the mapping did not use become metadata (merged with an existing metadata object): lossless import. */
function rest(value: Record<string, unknown>, used: readonly string[]): Record<string, unknown> | undefined {
  const meta: Record<string, unknown> = {};
  const inner = value.metadata;
  if (inner && typeof inner === "object" && !Array.isArray(inner)) Object.assign(meta, inner);
  else if (inner !== undefined) meta.metadata = inner;
  for (const [k, v] of Object.entries(value)) if (!used.includes(k) && k !== "metadata") meta[k] = v;
  return Object.keys(meta).length > 0 ? meta : undefined;
}

function withMeta<T extends object>(record: T, meta: Record<string, unknown> | undefined): T {
  return meta ? { ...record, metadata: meta } : record;
}

function str(v: unknown): string | undefined {
  if (typeof v === "string") return v;
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  return undefined;
}

export function mapJsonlRecord(value: Record<string, unknown>, shape: JsonlShape): DatasetRecord | string {
  switch (shape) {
    case "chat": {
      const record: Record<string, unknown> = { messages: value.messages };
      if (value.tools !== undefined) record.tools = value.tools;
      return withMeta(record, rest(value, ["messages", "tools"])) as unknown as DatasetRecord;
    }
    case "preference": {
      const record = { input: value.input, preferred_output: value.preferred_output, non_preferred_output: value.non_preferred_output };
      return withMeta(record, rest(value, ["input", "preferred_output", "non_preferred_output"])) as unknown as DatasetRecord;
    }
    case "text":
      return withMeta({ text: value.text as string }, rest(value, ["text"]));
    case "prompt-completion": {
      const prompt = str(value.prompt);
      const completion = str(value.completion);
      if (prompt === undefined || completion === undefined) return "prompt and completion must both be strings";
      const messages: Message[] = [];
      if (typeof value.system === "string") messages.push({ role: "system", content: value.system });
      messages.push({ role: "user", content: prompt }, { role: "assistant", content: completion });
      return withMeta({ messages }, rest(value, ["prompt", "completion", "system"]));
    }
    case "alpaca": {
      const instruction = str(value.instruction);
      const output = str(value.output);
      if (instruction === undefined || output === undefined) return "instruction and output must both be strings";
      const input = str(value.input);
      const user = input && input.trim() !== "" ? `${instruction}\n\n${input}` : instruction;
      const messages: Message[] = [];
      if (typeof value.system === "string" && value.system.trim() !== "") messages.push({ role: "system", content: value.system });
      messages.push({ role: "user", content: user }, { role: "assistant", content: output });
      return withMeta({ messages }, rest(value, ["instruction", "input", "output", "system"]));
    }
    case "sharegpt": {
      const turns = value.conversations as unknown[];
      const messages: Message[] = [];
      if (typeof value.system === "string" && value.system.trim() !== "") messages.push({ role: "system", content: value.system });
      for (let i = 0; i < turns.length; i += 1) {
        const t = turns[i] as Record<string, unknown> | null;
        const from = typeof t?.from === "string" ? t.from : typeof t?.role === "string" ? t.role : undefined;
        const content = str(t?.value ?? t?.content);
        const role = from === undefined ? undefined : SHAREGPT_ROLES[from.toLowerCase()];
        if (role === undefined) return `conversations[${i}].from ${JSON.stringify(from ?? null)} is not a known speaker (human, gpt, system, …)`;
        if (content === undefined) return `conversations[${i}].value is not a string`;
        messages.push({ role, content });
      }
      return withMeta({ messages }, rest(value, ["conversations", "system"]));
    }
  }
}
