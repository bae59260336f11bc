import { DuplicateDetector } from "../dedupe/detector.js";
import { normaliseText, recordText } from "../dedupe/normalize.js";
import { parseOptions } from "../dedupe/parse-options.js";
import { PiiScanner } from "../pii/redact.js";
import type { PiiType } from "../pii/options.js";
import type { DatasetRecord, Message, RecordKind } from "../record.js";
import { recordKind } from "../record.js";
import { detectLanguage } from "./language.js";
import { NgramStats } from "./ngrams.js";
import { estimateTokens, MESSAGE_OVERHEAD_TOKENS, StatsOptionsSchema, type BatchCountTokens, type CountTokens, type StatsOptions, type StatsOptionsInput } from "./options.js";
import { summarize, type Distribution } from "./summary.js";
import { statsWarnings, type StatsWarning } from "./warnings.js";

export interface DatasetStats {
  records: number;
  kinds: Record<RecordKind, number>;
  tokenizer: { name: string; estimate: boolean };
  turns: Distribution;
  messagesByRole: Record<string, number>;
  /** Tokens per message content, by role. */
  tokensByRole: Record<string, Distribution>;
  /** Tokens per example (all messages + per-message overhead; text records: the text). */
  tokensPerExample: Distribution;
  contextLimit: number;
  overLimit: number;
  label?: { field: string; counts: Record<string, number>; missing: number; imbalance: number };
  languages: Record<string, number>;
  duplicates?: { exact: number; near: number; rate: number };
  pii?: { recordsWithFindings: number; rate: number; byType: Record<PiiType, number> };
  diversity: ReturnType<NgramStats["result"]>;
  /** Per-example token counts, for histograms (kept in a typed array: 8 bytes a record). */
  exampleTokens: Float64Array;
  warnings: StatsWarning[];
}

const LABEL_FIELDS = ["label", "intent", "category"];

/** Streams records once and accumulates everything `tunekit data stats` shows. */
export class StatsCollector {
  readonly options: StatsOptions;
  private readonly countTokens: CountTokens;
  private readonly estimate: boolean;
  private records = 0;
  private readonly kinds: Record<RecordKind, number> = { chat: 0, text: 0, preference: 0 };
  private readonly turns: number[] = [];
  private readonly roleTokens = new Map<string, number[]>();
  private readonly exampleTokens: number[] = [];
  private labelField?: string;
  private readonly labels = new Map<string, number>();
  private labelMissing = 0;
  private readonly languages = new Map<string, number>();
  private readonly detector?: DuplicateDetector;
  private readonly pii?: PiiScanner;
  private readonly ngrams: NgramStats;

  /** `countTokens` defaults to a chars/4 estimate; pass src/tokenize's counter for real counts. */
  constructor(input: StatsOptionsInput = {}, countTokens?: CountTokens) {
    this.options = parseOptions(StatsOptionsSchema, input, "DATA_STATS_OPTIONS");
    this.countTokens = countTokens ?? estimateTokens;
    this.estimate = countTokens === undefined;
    this.labelField = this.options.labelField;
    if (this.options.duplicates) this.detector = new DuplicateDetector({ threshold: 0.8, numPerm: 128, ngram: 3, seed: 1, near: true });
    if (this.options.pii) this.pii = new PiiScanner({ mode: "detect", maxSamples: 0 });
    this.ngrams = new NgramStats(this.options.ngram);
  }

  /** `countTokens` overrides the collector's counter for this record (collectStats' batched counting). */
  add(record: DatasetRecord, countTokens: CountTokens = this.countTokens): void {
    this.records++;
    const kind = recordKind(record);
    this.kinds[kind]++;
    const messages = messagesOf(record, kind);
    let tokens = 0;
    let language = "";
    let langText = "";
    if (kind === "text") {
      const text = (record as { text: string }).text;
      tokens = countTokens(text);
      this.push("text", tokens);
      this.ngrams.add(text);
      language = detectLanguage(text);
    } else {
      let turns = 0;
      for (const m of messages) {
        const content = m.content ?? "";
        const t = countTokens(content) + (m.tool_calls ? countTokens(JSON.stringify(m.tool_calls)) : 0);
        this.push(m.role, t);
        tokens += t + MESSAGE_OVERHEAD_TOKENS;
        if (m.role === "user" || m.role === "assistant") turns++;
        if (m.role !== "system") this.ngrams.add(content);
        if (m.role !== "system" && langText.length < 2000) langText += ` ${content}`;
      }
      language = detectLanguage(langText);
      this.turns.push(turns);
    }
    this.exampleTokens.push(tokens);
    this.languages.set(language || "und", (this.languages.get(language || "und") ?? 0) + 1);
    this.countLabel(record);
    this.detector?.add(normaliseText(recordText(record)));
    this.pii?.process(record);
  }

  private push(role: string, tokens: number): void {
    const list = this.roleTokens.get(role) ?? [];
    if (list.length === 0) this.roleTokens.set(role, list);
    list.push(tokens);
  }

  private countLabel(record: DatasetRecord): void {
    const meta = record.metadata ?? {};
    if (this.labelField === undefined) {
      const found = LABEL_FIELDS.find((f) => typeof meta[f] === "string");
      if (found === undefined) return;
      this.labelField = found;
      this.labelMissing = this.records - 1;
    }
    const value = meta[this.labelField];
    if (typeof value === "string" || typeof value === "number") this.labels.set(String(value), (this.labels.get(String(value)) ?? 0) + 1);
    else this.labelMissing++;
  }

  finish(): DatasetStats {
    const byRole: Record<string, Distribution> = {};
    const messagesByRole: Record<string, number> = {};
    for (const [role, list] of this.roleTokens) {
      byRole[role] = summarize(list);
      messagesByRole[role] = list.length;
    }
    const exampleTokens = Float64Array.from(this.exampleTokens);
    let overLimit = 0;
    for (const t of exampleTokens) if (t > this.options.contextLimit) overLimit++;
    const stats: DatasetStats = {
      records: this.records,
      kinds: this.kinds,
      tokenizer: { name: this.estimate ? "estimate (chars/4)" : this.options.tokenizer, estimate: this.estimate },
      turns: summarize(this.turns),
      messagesByRole,
      tokensByRole: byRole,
      tokensPerExample: summarize(exampleTokens),
      contextLimit: this.options.contextLimit,
      overLimit,
      languages: Object.fromEntries([...this.languages.entries()].sort((a, b) => b[1] - a[1])),
      diversity: this.ngrams.result(this.options.topNgrams),
      exampleTokens,
      warnings: [],
    };
    if (this.labelField !== undefined && this.labels.size > 0) {
      const counts = Object.fromEntries([...this.labels.entries()].sort((a, b) => b[1] - a[1]));
      const values = Object.values(counts);
      stats.label = { field: this.labelField, counts, missing: this.labelMissing, imbalance: Math.round((Math.max(...values) / Math.min(...values)) * 100) / 100 };
    }
    if (this.detector) {
      const d = this.detector.finish();
      let exact = 0;
      let inClusters = 0;
      for (let i = 0; i < d.count; i++) if (d.exactOf[i] >= 0) exact++;
      inClusters = d.clusterMembers.length - (d.clusterOffsets.length - 1);
      stats.duplicates = { exact, near: inClusters - exact, rate: this.records === 0 ? 0 : Math.round((inClusters / this.records) * 10000) / 10000 };
    }
    if (this.pii) {
      const r = this.pii.report;
      stats.pii = { recordsWithFindings: r.recordsWithFindings, rate: this.records === 0 ? 0 : Math.round((r.recordsWithFindings / this.records) * 10000) / 10000, byType: r.byType };
    }
    stats.warnings = statsWarnings(stats);
    return stats;
  }
}

function messagesOf(record: DatasetRecord, kind: RecordKind): Message[] {
  if (kind === "chat") return (record as { messages: Message[] }).messages;
  if (kind === "preference") return [...(record as { input: { messages: Message[] } }).input.messages, ...(record as { preferred_output: Message[] }).preferred_output];
  return [];
}

/** The texts `add` counts tokens of, in the same way (batched counting counts these first, then looks them up). */
function countedTexts(record: DatasetRecord): string[] {
  const kind = recordKind(record);
  if (kind === "text") return [(record as { text: string }).text];
  return messagesOf(record, kind).flatMap((m) => [m.content ?? "", ...(m.tool_calls ? [JSON.stringify(m.tool_calls)] : [])]);
}

/** Records per batch handed to a BatchCountTokens counter: enough to keep its threads busy, little memory. */
const COUNT_BATCH_RECORDS = 256;

/**
 * One pass over records → stats. A BatchCountTokens counter (a Hugging Face tokenizer) is given the distinct
 * texts of each batch of records at once; the records are then added with the counts looked up.
 */
export async function collectStats(records: AsyncIterable<DatasetRecord> | Iterable<DatasetRecord>, options: StatsOptionsInput = {}, countTokens?: CountTokens | BatchCountTokens): Promise<DatasetStats> {
  if (countTokens === undefined || typeof countTokens === "function") {
    const collector = new StatsCollector(options, countTokens);
    for await (const record of records) collector.add(record);
    return collector.finish();
  }
  const collector = new StatsCollector(options, () => {
    throw new Error("invariant: batched stats add records with their looked-up counts only");
  });
  let batch: DatasetRecord[] = [];
  const flush = async () => {
    const texts = [...new Set(batch.flatMap(countedTexts))];
    const counts = texts.length === 0 ? [] : await countTokens.countBatch(texts);
    const byText = new Map(texts.map((t, i) => [t, counts[i]!]));
    const lookup: CountTokens = (text) => {
      const n = byText.get(text);
      if (n === undefined) throw new Error("invariant: countedTexts must list every text StatsCollector.add counts");
      return n;
    };
    for (const record of batch) collector.add(record, lookup);
    batch = [];
  };
  for await (const record of records) {
    batch.push(record);
    if (batch.length >= COUNT_BATCH_RECORDS) await flush();
  }
  await flush();
  return collector.finish();
}
