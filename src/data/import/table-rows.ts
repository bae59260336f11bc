import { createReadStream } from "node:fs";
import { parse } from "csv-parse";
import { readJsonlFile, type LineProblem } from "../jsonl.js";

/**
 * Rows of a table-like source as string maps with the source line number: CSV/TSV through csv-parse (quoted
 * fields with embedded newlines, BOM, CRLF), or JSONL objects with flat values. Bad rows become problems.
 */
export type Row = { line: number; values: Record<string, string>; problem?: undefined } | { line: number; values?: undefined; problem: LineProblem };

export interface TableSource {
  kind: "csv" | "tsv" | "jsonl";
  path: string;
}

export const MAX_RECORD_BYTES = 16 * 1024 * 1024;

export async function* readTableRows(source: TableSource): AsyncGenerator<Row> {
  if (source.kind === "jsonl") {
    for await (const entry of readJsonlFile(source.path)) {
      if (entry.problem) yield { line: entry.line, problem: entry.problem };
      else yield { line: entry.line, values: flatStrings(entry.value) };
    }
    return;
  }
  const input = createReadStream(source.path, { highWaterMark: 1 << 20 });
  const parser = parse({
    delimiter: source.kind === "tsv" ? "\t" : ",",
    columns: (header: string[]) => header.map((h) => h.trim()),
    bom: true,
    info: true,
    relax_column_count: true,
    skip_empty_lines: true,
    max_record_size: MAX_RECORD_BYTES,
  });
  input.pipe(parser);
  let lastLine = 1;
  let invalidBefore = 0;
  try {
    for await (const item of parser as AsyncIterable<{ record: Record<string, string | undefined>; info: { lines: number; invalid_field_length: number } }>) {
      // info.lines is the line the record ends on; a quoted field can span lines.
      const line = item.info.lines;
      lastLine = line;
      const values: Record<string, string> = {};
      let bad = false;
      for (const [k, v] of Object.entries(item.record)) {
        if (v === undefined) continue;
        if (v.includes("\uFFFD")) bad = true;
        values[k] = v;
      }
      if (bad) {
        yield { line, problem: { line, code: "DATA_INVALID_UTF8", message: `row ending on line ${line} is not valid UTF-8 (decoded with replacement characters)`,
          fix: "re-encode the file as UTF-8 (e.g. `iconv -f latin1 -t utf-8 in.csv > out.csv`)" } };
        continue;
      }
      // info.invalid_field_length counts every inconsistent row so far: only an increase is this row's problem.
      const invalidRows = item.info.invalid_field_length;
      const thisRowInvalid = invalidRows > invalidBefore;
      invalidBefore = invalidRows;
      if (thisRowInvalid) {
        yield { line, problem: { line, code: "DATA_CSV_COLUMN_COUNT", message: `row ending on line ${line} has a different number of fields than the header`,
          fix: "quote fields that contain the delimiter, or fix the row" } };
        continue;
      }
      yield { line, values };
    }
  } catch (error) {
    const e = error as { code?: string; message?: string; lines?: number; bytes_records?: number };
    const line = e.lines ?? lastLine;
    if (e.code === "CSV_QUOTE_NOT_CLOSED") {
      // csv-parse reports the line it reached (the end of the file); the user needs the line where the
      // quote opens, found by rescanning the unread record from where the last good record ended.
      const opened = (await findUnclosedQuote(source.path, e.bytes_records ?? 0)) ?? line;
      yield { line: opened, problem: {
        line: opened,
        code: "DATA_TRUNCATED_LINE",
        message: `line ${opened}: a quoted field opens here and is never closed, so lines ${opened}–${line} could not be read as rows`,
        fix: `close the quote on line ${opened}, or double a quote that belongs to the text (""); if the file was cut off, export it again`,
      } };
      return;
    }
    yield { line, problem: {
      line,
      code: e.code === "CSV_MAX_RECORD_SIZE" ? "DATA_LINE_TOO_LONG" : "DATA_CSV_SYNTAX",
      message: `CSV could not be read past line ${line}: ${e.message ?? String(error)}`,
      fix: "fix the CSV syntax at that line",
    } };
  } finally {
    input.destroy();
    parser.destroy();
  }
}

/**
 * The line where a quoted field that never closes opens: lines are counted up to `fromByte` (where the last
 * good record ended), then quotes toggle in and out of a quoted field ("" inside one toggles twice).
 */
async function findUnclosedQuote(path: string, fromByte: number): Promise<number | undefined> {
  let line = 1;
  let offset = 0;
  let quoted = false;
  let openedAt: number | undefined;
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
    for (let i = 0; i < chunk.length; i++, offset++) {
      const byte = chunk[i];
      if (byte === 0x0a) line++;
      else if (byte === 0x22 && offset >= fromByte) {
        quoted = !quoted;
        if (quoted) openedAt = line;
      }
    }
  }
  return quoted ? openedAt : undefined;
}

function flatStrings(value: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) {
    if (v === null || v === undefined) continue;
    out[k] = typeof v === "string" ? v : typeof v === "object" ? JSON.stringify(v) : String(v);
  }
  return out;
}
