import { z } from "zod";

/**
 * The canonical dataset record. OpenAI's chat format is the superset every importer maps into and every
 * exporter maps out of; plain `text` records serve continued pre-training; preference pairs serve DPO.
 * Records are stored as canonical JSONL (see jsonl.ts) and hashed into immutable dataset versions.
 */
export const ROLES = ["system", "user", "assistant", "tool"] as const;
export type Role = (typeof ROLES)[number];

export const ToolCallSchema = z.object({
  id: z.string(),
  type: z.literal("function"),
  function: z.object({ name: z.string(), arguments: z.string() }),
});
export type ToolCall = z.infer<typeof ToolCallSchema>;

export const MessageSchema = z.object({
  role: z.enum(ROLES),
  content: z.string().nullable(),
  name: z.string().optional(),
  tool_calls: z.array(ToolCallSchema).optional(),
  tool_call_id: z.string().optional(),
  weight: z.union([z.literal(0), z.literal(1)]).optional(),
});
export type Message = z.infer<typeof MessageSchema>;

export const ToolSchema = z.object({
  type: z.literal("function"),
  function: z.object({
    name: z.string(),
    description: z.string().optional(),
    parameters: z.record(z.string(), z.unknown()).optional(),
  }),
});
export type Tool = z.infer<typeof ToolSchema>;

export const MetadataSchema = z.record(z.string(), z.unknown());
export type Metadata = z.infer<typeof MetadataSchema>;

export const ChatRecordSchema = z.object({
  messages: z.array(MessageSchema),
  tools: z.array(ToolSchema).optional(),
  metadata: MetadataSchema.optional(),
});
export type ChatRecord = z.infer<typeof ChatRecordSchema>;

export const TextRecordSchema = z.object({
  text: z.string(),
  metadata: MetadataSchema.optional(),
});
export type TextRecord = z.infer<typeof TextRecordSchema>;

export const PreferenceRecordSchema = z.object({
  input: z.object({ messages: z.array(MessageSchema), tools: z.array(ToolSchema).optional() }),
  preferred_output: z.array(MessageSchema),
  non_preferred_output: z.array(MessageSchema),
  metadata: MetadataSchema.optional(),
});
export type PreferenceRecord = z.infer<typeof PreferenceRecordSchema>;

export type DatasetRecord = ChatRecord | TextRecord | PreferenceRecord;
export type RecordKind = "chat" | "text" | "preference";

export function recordKind(record: DatasetRecord): RecordKind {
  if ("messages" in record) return "chat";
  if ("text" in record) return "text";
  return "preference";
}

export function isChatRecord(record: DatasetRecord): record is ChatRecord {
  return "messages" in record;
}
export function isTextRecord(record: DatasetRecord): record is TextRecord {
  return "text" in record && !("messages" in record);
}
export function isPreferenceRecord(record: DatasetRecord): record is PreferenceRecord {
  return "preferred_output" in record;
}
