import type { DatasetRecord, Message } from "../record.js";
import { recordId } from "../dedupe/record-id.js";
import { parseOptions } from "../dedupe/parse-options.js";
import { PII_TYPES, PiiOptionsSchema, type PiiOptions, type PiiOptionsInput, type PiiType } from "./options.js";
import { scanText, type PiiMatch } from "./scan.js";

/** One audit line: where a finding is, never what it is. */
export interface PiiFinding {
  record: number;
  id: string;
  /** JSON path of the string inside the record, e.g. "messages[2].content". */
  path: string;
  /** Message index for message content, else null. */
  message: number | null;
  type: PiiType;
  start: number;
  end: number;
  /** The placeholder written in redact mode. */
  placeholder?: string;
}

export interface PiiReport {
  transform: "pii";
  options: PiiOptions;
  records: number;
  recordsWithFindings: number;
  findings: number;
  byType: Record<PiiType, number>;
  recordsByType: Record<PiiType, number>;
  dropped: number;
  redacted: number;
  /** Masked examples per type: the value's shape with letters/digits replaced (x/9), in a few words of context. */
  samples: Partial<Record<PiiType, { id: string; path: string; masked: string }[]>>;
}

/** Consistent placeholders within one conversation: the same value always gets the same `<TYPE_n>`. */
class PlaceholderMap {
  private readonly byType = new Map<PiiType, Map<string, number>>();
  get(type: PiiType, value: string): string {
    let values = this.byType.get(type);
    if (!values) this.byType.set(type, (values = new Map()));
    const key = canonicalValue(type, value);
    let n = values.get(key);
    if (n === undefined) values.set(key, (n = values.size + 1));
    return `<${type}_${n}>`;
  }
}

/** Values that are the same thing written differently map to one placeholder. */
function canonicalValue(type: PiiType, value: string): string {
  if (type === "EMAIL") return value.toLowerCase();
  if (type === "PHONE" || type === "CREDIT_CARD" || type === "SSN") return value.replace(/\D/g, "");
  if (type === "IBAN") return value.replace(/ /g, "").toUpperCase();
  return value;
}

function mask(value: string): string {
  return value.replace(/[A-Za-z]/g, "x").replace(/\d/g, "9");
}

/**
 * Detects, redacts or drops PII and secrets record by record (streaming; the only state is the report).
 * Scanned: message content and tool-call arguments, text, preference outputs, and string metadata values.
 */
export class PiiScanner {
  readonly options: PiiOptions;
  readonly report: PiiReport;
  private index = 0;

  constructor(input: PiiOptionsInput = {}) {
    this.options = parseOptions(PiiOptionsSchema, input, "DATA_PII_OPTIONS");
    const zero = () => Object.fromEntries(PII_TYPES.map((t) => [t, 0])) as Record<PiiType, number>;
    this.report = { transform: "pii", options: this.options, records: 0, recordsWithFindings: 0, findings: 0, byType: zero(), recordsByType: zero(), dropped: 0, redacted: 0, samples: {} };
  }

  /**
   * Scans one record; returns the record to keep (redacted in redact mode; unchanged in detect mode) or null
   * (drop mode with findings), and this record's findings for the audit.
   */
  process(record: DatasetRecord): { record: DatasetRecord | null; findings: PiiFinding[] } {
    const index = this.index++;
    const id = recordId(record, index);
    const placeholders = new PlaceholderMap();
    const findings: PiiFinding[] = [];
    const redact = this.options.mode === "redact";
    const visit = (text: string, path: string, message: number | null): string => {
      const matches = scanText(text, this.options);
      if (matches.length === 0) return text;
      this.sample(matches, text, id, path);
      let out = "";
      let at = 0;
      for (const m of matches) {
        const finding: PiiFinding = { record: index, id, path, message, type: m.type, start: m.start, end: m.end };
        if (redact) {
          finding.placeholder = placeholders.get(m.type, m.value);
          out += text.slice(at, m.start) + finding.placeholder;
          at = m.end;
        }
        findings.push(finding);
      }
      return redact ? out + text.slice(at) : text;
    };
    const next = this.walk(record, visit);
    this.report.records++;
    if (findings.length > 0) {
      this.report.recordsWithFindings++;
      this.report.findings += findings.length;
      for (const f of findings) this.report.byType[f.type]++;
      for (const t of new Set(findings.map((f) => f.type))) this.report.recordsByType[t]++;
      if (this.options.mode === "drop") this.report.dropped++;
      if (redact) this.report.redacted++;
    }
    if (this.options.mode === "drop" && findings.length > 0) return { record: null, findings };
    return { record: redact ? next : record, findings };
  }

  /** Context windows for the report, with every finding in the window masked (not only the sampled one). */
  private sample(matches: PiiMatch[], text: string, id: string, path: string): void {
    let masked = "";
    let at = 0;
    const spans: [number, number][] = [];
    for (const m of matches) {
      masked += text.slice(at, m.start);
      const start = masked.length;
      masked += `[${mask(m.value)}]`;
      spans.push([start, masked.length]);
      at = m.end;
    }
    masked += text.slice(at);
    matches.forEach((m, k) => {
      const list = (this.report.samples[m.type] ??= []);
      if (list.length >= this.options.maxSamples) return;
      const [start, end] = spans[k];
      list.push({ id, path, masked: `…${masked.slice(Math.max(0, start - 24), Math.min(masked.length, end + 24)).replace(/\s+/g, " ")}…` });
    });
  }

  private walk(record: DatasetRecord, visit: (text: string, path: string, message: number | null) => string): DatasetRecord {
    const messages = (list: Message[], prefix: string): Message[] =>
      list.map((m, i) => {
        const copy: Message = { ...m };
        if (typeof m.content === "string") copy.content = visit(m.content, `${prefix}[${i}].content`, i);
        if (m.tool_calls) {
          copy.tool_calls = m.tool_calls.map((c, k) => ({ ...c, function: { ...c.function, arguments: visit(c.function.arguments, `${prefix}[${i}].tool_calls[${k}].function.arguments`, i) } }));
        }
        return copy;
      });
    let next: DatasetRecord;
    if ("messages" in record) next = { ...record, messages: messages(record.messages, "messages") };
    else if ("text" in record) next = { ...record, text: visit(record.text, "text", null) };
    else {
      next = {
        ...record,
        input: { ...record.input, messages: messages(record.input.messages, "input.messages") },
        preferred_output: messages(record.preferred_output, "preferred_output"),
        non_preferred_output: messages(record.non_preferred_output, "non_preferred_output"),
      };
    }
    if (this.options.scanMetadata && record.metadata) {
      const meta: Record<string, unknown> = {};
      for (const [key, value] of Object.entries(record.metadata)) {
        meta[key] = typeof value === "string" && key !== "id" && key !== "split" ? visit(value, `metadata.${key}`, null) : value;
      }
      next.metadata = meta;
    }
    return next;
  }

  /** Streams records through `process`, yielding what stays; `onFindings` receives each record's audit lines. */
  async *run(records: AsyncIterable<DatasetRecord> | Iterable<DatasetRecord>, onFindings?: (findings: PiiFinding[]) => void | Promise<void>): AsyncGenerator<DatasetRecord> {
    for await (const record of records) {
      const { record: kept, findings } = this.process(record);
      if (findings.length > 0 && onFindings) await onFindings(findings);
      if (kept) yield kept;
    }
  }
}

/** Convenience: findings in one string (no record context). */
export function detectPii(text: string, input: PiiOptionsInput = {}): { type: PiiType; start: number; end: number }[] {
  const options = parseOptions(PiiOptionsSchema, input, "DATA_PII_OPTIONS");
  return scanText(text, options).map(({ type, start, end }) => ({ type, start, end }));
}
