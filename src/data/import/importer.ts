import { stat } from "node:fs/promises";
import { UsageError } from "../../errors/index.js";
import { basename } from "node:path";
import type { LineProblem } from "../jsonl.js";
import { readJsonlFile } from "../jsonl.js";
import type { DatasetRecord, Message } from "../record.js";
import { IssueList } from "../validate/issue.js";
import { checkStructure } from "../validate/structure.js";
import { mapJsonlRecord, shapeOf } from "./jsonl-shapes.js";
import { mapRow } from "./column-map.js";
import { readTableRows } from "./table-rows.js";
import { chunkDocument } from "./documents.js";
import { groupConversations } from "./conversation-log.js";
import { detectFormat, type Detection, type DetectOptions } from "./detect.js";

/**
 * Import: detect each file's format, map every row into canonical records and keep only records that pass the
 * canonical structural checks. Every rejected line is counted by code and sampled with its line number; source
 * files are only ever read.
 */
export interface ImportOptions extends DetectOptions {
  system?: string;
  timestamp?: string;
  role?: string;
  content?: string;
  roleMap?: Record<string, Message["role"]>;
  chunkChars?: number;
  maxProblems?: number;
  /** JSONL: longest accepted line in bytes; longer lines are reported and skipped (default 16 MiB). */
  maxLineBytes?: number;
}

export interface FileImportReport {
  file: string;
  bytes: number;
  format: string;
  reason: string;
  imported: number;
  rejected: number;
}

export interface ImportReport {
  files: FileImportReport[];
  imported: number;
  rejected: number;
  problemsByCode: Record<string, number>;
  problems: (LineProblem & { file: string })[];
  problemsOmitted: number;
  mergedTurns: number;
  /** Chat records imported without an assistant turn: usable as eval prompts, rejected by training targets. */
  promptOnly: number;
}

export interface PreparedImport {
  detections: Detection[];
  report: ImportReport;
  records(): AsyncGenerator<DatasetRecord>;
}

type Item = { line: number; record?: DatasetRecord | string; problem?: LineProblem };

export async function prepareImport(paths: string[], options: ImportOptions = {}): Promise<PreparedImport> {
  const detections: Detection[] = [];
  for (const path of paths) detections.push(await detectFormat(path, options));
  const report: ImportReport = { files: [], imported: 0, rejected: 0, problemsByCode: {}, problems: [], problemsOmitted: 0, mergedTurns: 0, promptOnly: 0 };
  const maxProblems = options.maxProblems ?? 200;

  const reject = (file: FileImportReport, problem: LineProblem): void => {
    file.rejected += 1;
    report.rejected += 1;
    report.problemsByCode[problem.code] = (report.problemsByCode[problem.code] ?? 0) + 1;
    if (report.problems.length < maxProblems) report.problems.push({ ...problem, file: file.file });
    else report.problemsOmitted += 1;
  };

  async function* records(): AsyncGenerator<DatasetRecord> {
    for (const detection of detections) {
      const file: FileImportReport = { file: detection.path, bytes: (await stat(detection.path)).size, format: detection.label, reason: detection.reason, imported: 0, rejected: 0 };
      report.files.push(file);
      for await (const item of itemsOf(detection, options, report)) {
        if (item.problem) { reject(file, item.problem); continue; }
        if (typeof item.record === "string") {
          reject(file, { line: item.line, code: "DATA_IMPORT_UNMAPPABLE", message: `line ${item.line}: ${item.record}`,
            fix: "fix the row, or pass --map to say which fields hold the turns" });
          continue;
        }
        const problem = structuralProblem(item.record as unknown as Record<string, unknown>, item.line);
        if (problem) { reject(file, problem); continue; }
        file.imported += 1;
        report.imported += 1;
        if (isPromptOnly(item.record!)) report.promptOnly += 1;
        yield item.record!;
      }
    }
  }
  return { detections, report, records };
}

/** The first error of the canonical structural rules (the ones `tunekit data validate` applies), as a line problem. */
function structuralProblem(value: Record<string, unknown>, line: number): LineProblem | undefined {
  const issues = new IssueList(line);
  checkStructure(value, issues);
  const error = issues.items.find((i) => i.severity === "error");
  return error && { line, code: error.code, message: `line ${line}: ${error.message}`, fix: error.fix };
}

/** A chat record with no assistant turn: canonical (an eval prompt with no reference), but nothing to train on. */
function isPromptOnly(record: DatasetRecord): boolean {
  return "messages" in record && !record.messages.some((m) => m.role === "assistant");
}

/** Source lines already in a canonical shape; validate checks these lines as they are, so import does too. */
const CANONICAL_SHAPES = new Set(["chat", "preference", "text"]);

async function* itemsOf(detection: Detection, options: ImportOptions, report: ImportReport): AsyncGenerator<Item> {
  const { format, path } = detection;
  switch (format.kind) {
    case "jsonl":
      for await (const entry of readJsonlFile(path, { maxLineBytes: options.maxLineBytes })) {
        if (entry.problem) { yield entry; continue; }
        // Mixed files happen: map each line by its own shape, falling back to the detected one.
        const own = shapeOf(entry.value);
        // A canonical line is checked before mapping moves its extra keys (or a non-object metadata) into
        // metadata: import must refuse exactly what validate refuses on the same line.
        const problem = own !== undefined && CANONICAL_SHAPES.has(own) ? structuralProblem(entry.value, entry.line) : undefined;
        if (problem) { yield { line: entry.line, problem }; continue; }
        yield { line: entry.line, record: mapJsonlRecord(entry.value, own ?? format.shape) };
      }
      return;
    case "table":
      for await (const row of readTableRows({ kind: format.table, path })) {
        if (row.problem) yield row;
        else yield { line: row.line, record: mapRow(row.values, format.map, options.system) };
      }
      return;
    case "conversation-log": {
      const need = { conversationId: options.conversationId, timestamp: options.timestamp, role: options.role, content: options.content };
      const missing = Object.entries(need).filter(([, v]) => !v).map(([k]) => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`);
      if (missing.length > 0) {
        throw new UsageError("DATA_LOG_COLUMNS_MISSING", `conversation log import needs ${missing.join(", ")}`, {
          fix: "name the columns: --conversation-id COL --timestamp COL --role COL --content COL",
        });
      }
      const rows = readTableRows({ kind: format.table, path });
      yield* groupConversations(rows, { ...(need as { [K in keyof typeof need]: string }), roleMap: options.roleMap }, report);
      return;
    }
    case "document":
      for await (const item of chunkDocument(path, { markdown: format.markdown, maxChars: options.chunkChars })) yield item;
      return;
  }
}

export function describeDetection(d: Detection): string {
  return `${basename(d.path)}: ${d.reason}`;
}
