import type { DatasetRecord } from "../record.js";

/** A record's id for reports: metadata.id when it is a string or number, else "#<index>" (0-based). */
export function recordId(record: DatasetRecord, index: number): string {
  const id = record.metadata?.id;
  if (typeof id === "string" || typeof id === "number") return String(id);
  return `#${index}`;
}

/** First `max` characters, on one line, with an ellipsis when cut. */
export function sampleText(text: string, max: number): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length <= max ? flat : `${flat.slice(0, max - 1)}…`;
}
