import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createJsonlWriter, type JsonlWriter } from "../jsonl-writer.js";
import { readJsonlFile } from "../jsonl.js";
import type { LineProblem } from "../jsonl.js";
import type { ChatRecord, Message } from "../record.js";
import type { Row } from "./table-rows.js";

/**
 * Conversation logs: one row per message, grouped into multi-turn conversations by a conversation id column
 * and ordered by a timestamp column (ties keep file order). Rows of one conversation may be anywhere in the
 * file, so rows are first hash-partitioned into temp JSONL buckets; each bucket is then grouped in memory.
 * Memory is bounded by the largest bucket (~1/64 of the input), not the file.
 */
export interface ConversationLogOptions {
  conversationId: string;
  timestamp: string;
  role: string;
  content: string;
  /** Source role value → canonical role, merged over the defaults (customer→user, agent→assistant, …). */
  roleMap?: Record<string, Message["role"]>;
  buckets?: number;
}

export const DEFAULT_ROLE_MAP: Record<string, Message["role"]> = {
  user: "user", customer: "user", client: "user", human: "user", visitor: "user", caller: "user",
  assistant: "assistant", agent: "assistant", bot: "assistant", support: "assistant", ai: "assistant", gpt: "assistant", operator: "assistant",
  system: "system", tool: "tool",
};

export type LogItem = { line: number; record: ChatRecord; problem?: undefined } | { line: number; record?: undefined; problem: LineProblem };

type Stored = { i: string; t: number; l: number; r: Message["role"]; c: string };

export async function* groupConversations(rows: AsyncIterable<Row>, options: ConversationLogOptions, report: { mergedTurns: number }): AsyncGenerator<LogItem> {
  const roleMap = { ...DEFAULT_ROLE_MAP, ...options.roleMap };
  const bucketCount = options.buckets ?? 64;
  const dir = await mkdtemp(join(tmpdir(), "tunekit-convlog-"));
  const writers: (JsonlWriter | undefined)[] = new Array(bucketCount);
  try {
    for await (const row of rows) {
      if (row.problem) { yield { line: row.line, problem: row.problem }; continue; }
      const v = row.values;
      const id = v[options.conversationId];
      const role = roleMap[(v[options.role] ?? "").trim().toLowerCase()];
      const content = v[options.content];
      const tsRaw = v[options.timestamp] ?? "";
      const ts = /^-?\d+(\.\d+)?$/.test(tsRaw.trim()) ? Number(tsRaw) : Date.parse(tsRaw);
      const bad = !id ? `column "${options.conversationId}" (conversation id) is empty`
        : role === undefined ? `role ${JSON.stringify(v[options.role] ?? null)} is not one of ${Object.keys(roleMap).join(", ")}`
        : content === undefined ? `column "${options.content}" is missing`
        : Number.isNaN(ts) ? `timestamp ${JSON.stringify(tsRaw)} is not a number or a date` : undefined;
      if (bad) {
        yield { line: row.line, problem: { line: row.line, code: "DATA_LOG_ROW", message: `line ${row.line}: ${bad}; the row was skipped`,
          fix: "fix the row, or map roles with --role-map agent=assistant,customer=user" } };
        continue;
      }
      const b = hashString(id!) % bucketCount;
      writers[b] ??= await createJsonlWriter(join(dir, `bucket-${b}.jsonl`), { canonical: false });
      await writers[b]!.write({ i: id!, t: ts, l: row.line, r: role!, c: content! } satisfies Stored);
    }
    for (const w of writers) await w?.close();
    for (let b = 0; b < bucketCount; b += 1) {
      if (!writers[b]) continue;
      const groups = new Map<string, Stored[]>();
      for await (const entry of readJsonlFile(join(dir, `bucket-${b}.jsonl`), { maxLineBytes: Number.MAX_SAFE_INTEGER })) {
        const row = entry.value as unknown as Stored | undefined;
        if (!row) continue;
        const list = groups.get(row.i);
        if (list) list.push(row);
        else groups.set(row.i, [row]);
      }
      for (const [id, list] of groups) {
        list.sort((x, y) => x.t - y.t || x.l - y.l);
        const messages: Message[] = [];
        for (const { r: role, c: content } of list) {
          const last = messages[messages.length - 1];
          if (last && last.role === role && role !== "tool") {
            last.content = `${last.content}\n${content}`;
            report.mergedTurns += 1;
          } else messages.push({ role, content });
        }
        yield { line: list[0]!.l, record: { messages, metadata: { conversation_id: id, rows: list.length } } };
      }
    }
  } finally {
    for (const w of writers) await w?.abort();
    await rm(dir, { recursive: true, force: true });
  }
}

function hashString(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i += 1) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}
