import { z } from "zod";
import type { DatasetRecord, Message } from "./record.js";

/**
 * Cleaning as a pure streaming transform. Every change is counted by kind and sampled (before/after, with the
 * record index and JSON path) in the report; every dropped record is counted by reason and sampled. Nothing is
 * changed or dropped without a line in the report.
 */
export const CleanOptionsSchema = z.strictObject({
  nfc: z.boolean().default(true),
  controlChars: z.boolean().default(true),
  whitespace: z.boolean().default(true),
  emptyTurns: z.boolean().default(true),
  /** "trim": cut turns after the last assistant turn (drop the record if none); "drop": drop such records; "keep". */
  finalAssistant: z.enum(["trim", "drop", "keep"]).default("trim"),
  stripHtml: z.boolean().default(false),
  /** Bounds on the record's total content characters; records outside are dropped (and reported). */
  minChars: z.number().int().nonnegative().default(1),
  maxChars: z.number().int().positive().optional(),
  samples: z.number().int().nonnegative().default(3),
});
export type CleanOptions = z.input<typeof CleanOptionsSchema>;

export interface ChangeSample { record: number; path: string; before: string; after: string }
export interface DropSample { record: number; reason: string; preview: string }
export interface CleanReport {
  recordsIn: number;
  recordsOut: number;
  changedRecords: number;
  changes: Record<string, { count: number; samples: ChangeSample[] }>;
  dropped: Record<string, { count: number; samples: DropSample[] }>;
}

// C0/C1 controls except tab and newline; also zero-width and bidi controls that break tokenization.
const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\u200B\u200E\u200F\u202A-\u202E\u2066-\u2069\uFEFF]/g;
const TAG = /<\/?[a-zA-Z][^<>]*>/g;
const ENTITIES: Record<string, string> = { "&amp;": "&", "&lt;": "<", "&gt;": ">", "&quot;": '"', "&#39;": "'", "&apos;": "'", "&nbsp;": " " };

const cut = (s: string): string => (s.length > 120 ? `${s.slice(0, 120)}…` : s);

/** Before/after excerpts around the first difference, so a sample shows what changed even in long text. */
function excerpt(before: string, after: string): [string, string] {
  if (before.length <= 120 && after.length <= 120) return [before, after];
  let i = 0;
  while (i < before.length && i < after.length && before[i] === after[i]) i += 1;
  const start = Math.max(0, i - 40);
  const pick = (s: string) => `${start > 0 ? "…" : ""}${s.slice(start, start + 100)}${s.length > start + 100 ? "…" : ""}`;
  return [pick(before), pick(after)];
}

export class Cleaner {
  readonly options: z.output<typeof CleanOptionsSchema>;
  readonly report: CleanReport = { recordsIn: 0, recordsOut: 0, changedRecords: 0, changes: {}, dropped: {} };
  private index = 0;
  private changedThis = false;

  constructor(options: CleanOptions = {}) {
    this.options = CleanOptionsSchema.parse(options);
  }

  /** `owned`: the caller hands over the records (e.g. freshly parsed from a version), so they may be edited in place. */
  async *clean(records: AsyncIterable<DatasetRecord>, options: { owned?: boolean } = {}): AsyncGenerator<DatasetRecord> {
    for await (const record of records) {
      const out = this.cleanRecord(record, options.owned);
      if (out) yield out;
    }
  }

  /** Returns the cleaned record, or undefined when it is dropped (the reason is in the report). */
  cleanRecord(record: DatasetRecord, owned = false): DatasetRecord | undefined {
    this.index += 1;
    this.report.recordsIn += 1;
    this.changedThis = false;
    const copy = (owned ? record : structuredClone(record)) as Record<string, unknown>;
    let chars = 0;
    if (typeof copy.text === "string" && !("messages" in copy)) {
      copy.text = this.cleanText(copy.text, "text");
      chars = (copy.text as string).length;
      if ((copy.text as string) === "") return this.drop("empty_text", record);
    } else if (Array.isArray(copy.messages)) {
      const messages = this.cleanMessages(copy.messages as Message[], "messages");
      const final = this.finalAssistant(messages, record);
      if (!final) return undefined;
      copy.messages = final;
      chars = contentChars(final);
    } else if (copy.input && typeof copy.input === "object") {
      const input = copy.input as { messages: Message[] };
      input.messages = this.cleanMessages(input.messages, "input.messages");
      copy.preferred_output = this.cleanMessages(copy.preferred_output as Message[], "preferred_output");
      copy.non_preferred_output = this.cleanMessages(copy.non_preferred_output as Message[], "non_preferred_output");
      if (input.messages.length === 0 || (copy.preferred_output as Message[]).length === 0 || (copy.non_preferred_output as Message[]).length === 0) {
        return this.drop("empty_preference_side", record);
      }
      chars = contentChars(input.messages) + contentChars(copy.preferred_output as Message[]) + contentChars(copy.non_preferred_output as Message[]);
    }
    if (chars < this.options.minChars) return this.drop("below_min_chars", record);
    if (this.options.maxChars !== undefined && chars > this.options.maxChars) return this.drop("above_max_chars", record);
    this.report.recordsOut += 1;
    if (this.changedThis) this.report.changedRecords += 1;
    return copy as unknown as DatasetRecord;
  }

  private cleanMessages(messages: Message[], path: string): Message[] {
    const out: Message[] = [];
    messages.forEach((m, i) => {
      if (typeof m.content === "string") m.content = this.cleanText(m.content, `${path}[${i}].content`);
      const hasCalls = Array.isArray(m.tool_calls) && m.tool_calls.length > 0;
      if (this.options.emptyTurns && (m.content === "" || m.content === null) && !hasCalls) {
        this.change("empty_turn_removed", `${path}[${i}]`, `${m.role}: ""`, "(removed)");
        return;
      }
      out.push(m);
    });
    return out;
  }

  private finalAssistant(messages: Message[], original: DatasetRecord): Message[] | undefined {
    if (messages.length === 0) return this.drop("no_messages_left", original);
    const mode = this.options.finalAssistant;
    if (mode === "keep" || messages[messages.length - 1]!.role === "assistant") return messages;
    if (mode === "drop") return this.drop("no_final_assistant", original);
    let last = messages.length - 1;
    while (last >= 0 && messages[last]!.role !== "assistant") last -= 1;
    if (last < 0) return this.drop("no_assistant_turn", original);
    const removed = messages.slice(last + 1);
    this.change("trailing_turns_trimmed", `messages[${last + 1}..]`, removed.map((m) => `${m.role}: ${m.content ?? ""}`).join(" | "), "(removed)");
    return messages.slice(0, last + 1);
  }

  cleanText(text: string, path: string): string {
    let s = text;
    const step = (kind: string, next: string): void => {
      if (next !== s) {
        this.change(kind, path, s, next);
        s = next;
      }
    };
    if (this.options.stripHtml) step("html_stripped", s.replace(TAG, "").replace(/&(amp|lt|gt|quot|#39|apos|nbsp);/g, (e) => ENTITIES[e] ?? e));
    if (this.options.nfc) step("unicode_nfc", s.normalize("NFC"));
    if (this.options.controlChars) step("control_chars_removed", s.replace(CONTROL, ""));
    if (this.options.whitespace) {
      step("whitespace_normalized", s.replace(/\r\n?/g, "\n").replace(/[ \t\u00A0]+$/gm, "").replace(/\n{3,}/g, "\n\n").trim());
    }
    return s;
  }

  private change(kind: string, path: string, before: string, after: string): void {
    this.changedThis = true;
    const entry = (this.report.changes[kind] ??= { count: 0, samples: [] });
    entry.count += 1;
    if (entry.samples.length < this.options.samples) {
      const [b, a] = excerpt(before, after);
      entry.samples.push({ record: this.index, path, before: b, after: a });
    }
  }

  private drop(reason: string, record: DatasetRecord): undefined {
    const entry = (this.report.dropped[reason] ??= { count: 0, samples: [] });
    entry.count += 1;
    if (entry.samples.length < this.options.samples) entry.samples.push({ record: this.index, reason, preview: cut(JSON.stringify(record)) });
    return undefined;
  }
}

function contentChars(messages: Message[]): number {
  let n = 0;
  for (const m of messages) if (typeof m.content === "string") n += m.content.length;
  return n;
}
