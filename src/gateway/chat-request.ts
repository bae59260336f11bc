import { z } from "zod";
import { UsageError } from "../errors/index.js";

/**
 * The documented shape of POST /v1/chat/completions (OpenAI's Chat Completions API), checked before anything
 * goes upstream: an upstream would answer `content: 42` or `max_tokens: "lots"` with its own error at best,
 * and a local backend would crash on it. Objects are loose: fields we do not know (new OpenAI parameters,
 * vendor extensions such as vLLM's) pass through untouched; only the fields we know are checked.
 */
const TextPart = z.looseObject({ type: z.literal("text"), text: z.string() });
const ImagePart = z.looseObject({
  type: z.literal("image_url"),
  image_url: z.looseObject({ url: z.string(), detail: z.enum(["auto", "low", "high"]).optional() }),
});
const AudioPart = z.looseObject({ type: z.literal("input_audio"), input_audio: z.looseObject({ data: z.string(), format: z.string() }) });
const FilePart = z.looseObject({ type: z.literal("file"), file: z.looseObject({ file_data: z.string().optional(), file_id: z.string().optional(), filename: z.string().optional() }) });
const RefusalPart = z.looseObject({ type: z.literal("refusal"), refusal: z.string() });

const PARTS = { error: "expected a string or a non-empty list of content parts ({type: 'text', text: '…'}, …)" };
const textContent = z.union([z.string(), z.array(TextPart).min(1)], PARTS);
const name = z.string().optional();

const ToolCall = z.looseObject({
  id: z.string(),
  type: z.literal("function"),
  function: z.looseObject({ name: z.string(), arguments: z.string() }),
});

const SystemMessage = z.looseObject({ role: z.enum(["system", "developer"]), content: textContent, name });
const UserMessage = z.looseObject({
  role: z.literal("user"),
  content: z.union([z.string(), z.array(z.discriminatedUnion("type", [TextPart, ImagePart, AudioPart, FilePart])).min(1)], PARTS),
  name,
});
// content may be null only on an assistant message that carries tool_calls (or the legacy function_call).
const AssistantMessage = z
  .looseObject({
    role: z.literal("assistant"),
    content: z.union([z.string(), z.array(z.discriminatedUnion("type", [TextPart, RefusalPart])).min(1)], PARTS).nullable().optional(),
    refusal: z.string().nullable().optional(),
    name,
    tool_calls: z.array(ToolCall).optional(),
    function_call: z.looseObject({ name: z.string(), arguments: z.string() }).nullable().optional(),
    audio: z.looseObject({ id: z.string() }).nullable().optional(),
  })
  .refine((m) => m.content != null || (m.tool_calls?.length ?? 0) > 0 || m.function_call != null || m.audio != null, {
    message: "an assistant message needs content unless it has tool_calls",
    path: ["content"],
  });
const ToolMessage = z.looseObject({ role: z.literal("tool"), content: textContent, tool_call_id: z.string().min(1) });
const FunctionMessage = z.looseObject({ role: z.literal("function"), content: z.string().nullable(), name: z.string().min(1) });

const Message = z.discriminatedUnion("role", [SystemMessage, UserMessage, AssistantMessage, ToolMessage, FunctionMessage]);

const positiveInt = z.number().int().positive();
const Tool = z.looseObject({
  type: z.literal("function"),
  function: z.looseObject({
    name: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, "letters, digits, _ and - only, at most 64"),
    description: z.string().optional(),
    parameters: z.record(z.string(), z.unknown()).optional(),
    strict: z.boolean().nullable().optional(),
  }),
});

export const ChatRequestSchema = z.looseObject({
  model: z.string().min(1).optional(),
  messages: z.array(Message).min(1, "messages must be a non-empty list"),
  max_tokens: positiveInt.nullable().optional(),
  max_completion_tokens: positiveInt.nullable().optional(),
  temperature: z.number().min(0).max(2).nullable().optional(),
  top_p: z.number().min(0).max(1).nullable().optional(),
  n: z.number().int().min(1).max(128).nullable().optional(),
  stream: z.boolean().nullable().optional(),
  stream_options: z.looseObject({ include_usage: z.boolean().optional() }).nullable().optional(),
  stop: z.union([z.string(), z.array(z.string()).max(4)]).nullable().optional(),
  presence_penalty: z.number().min(-2).max(2).nullable().optional(),
  frequency_penalty: z.number().min(-2).max(2).nullable().optional(),
  logit_bias: z.record(z.string(), z.number().min(-100).max(100)).nullable().optional(),
  logprobs: z.boolean().nullable().optional(),
  top_logprobs: z.number().int().min(0).max(20).nullable().optional(),
  seed: z.number().int().nullable().optional(),
  user: z.string().optional(),
  tools: z.array(Tool).optional(),
  tool_choice: z
    .union([z.enum(["none", "auto", "required"]), z.looseObject({ type: z.literal("function"), function: z.looseObject({ name: z.string() }) })])
    .optional(),
  parallel_tool_calls: z.boolean().optional(),
  response_format: z.looseObject({ type: z.enum(["text", "json_object", "json_schema"]) }).optional(),
  metadata: z.record(z.string(), z.string()).nullable().optional(),
  store: z.boolean().nullable().optional(),
});
export type ChatRequest = z.infer<typeof ChatRequestSchema>;

/** OpenAI's way of naming a parameter: `messages[0].content`. */
function paramName(path: readonly PropertyKey[]): string {
  return path.map((p, i) => (typeof p === "number" ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`)).join("") || "body";
}

/** The request, or one 400 naming the first offending parameter (and listing every problem in the message). */
export function validateChatRequest(body: Record<string, unknown>): ChatRequest {
  const parsed = ChatRequestSchema.safeParse(body);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((i) => `${paramName(i.path)}: ${i.message}`);
  const param = paramName(parsed.error.issues[0].path);
  throw new UsageError("GATEWAY_BAD_REQUEST", `invalid chat completion request: ${problems.join("; ")}`, {
    fix: "send the documented shape: {model, messages: [{role: 'user', content: '…'}], max_tokens?: positive integer, temperature?: 0–2, …}",
    details: { param, problems },
  });
}
