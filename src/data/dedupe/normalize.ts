import type { DatasetRecord, Message } from "../record.js";

/**
 * The text two records are compared on. Normalisation makes "Hello  World" and "hello world" equal: Unicode
 * NFC, lower case, and every run of whitespace collapsed to one space, trimmed.
 */
export function normaliseText(text: string): string {
  return text.normalize("NFC").toLowerCase().replace(/\s+/gu, " ").trim();
}

export interface DedupeTextOptions {
  /**
   * Include system messages. Off by default: datasets usually repeat one system prompt in every record, and
   * including it would make every short conversation look like a near-duplicate of every other.
   */
  includeSystem?: boolean;
}

function messagesText(messages: Message[], includeSystem: boolean): string {
  const parts: string[] = [];
  for (const m of messages) {
    if (m.role === "system" && !includeSystem) continue;
    let content = m.content ?? "";
    if (m.tool_calls) content += m.tool_calls.map((c) => ` ${c.function.name} ${c.function.arguments}`).join("");
    parts.push(`${m.role}: ${content}`);
  }
  return parts.join("\n");
}

/** The raw (not yet normalised) comparison text of any record kind; roles are part of it. */
export function recordText(record: DatasetRecord, options: DedupeTextOptions = {}): string {
  const includeSystem = options.includeSystem ?? false;
  if ("messages" in record) return messagesText(record.messages, includeSystem);
  if ("text" in record) return record.text;
  return [
    messagesText(record.input.messages, includeSystem),
    `preferred: ${messagesText(record.preferred_output, includeSystem)}`,
    `non_preferred: ${messagesText(record.non_preferred_output, includeSystem)}`,
  ].join("\n");
}
