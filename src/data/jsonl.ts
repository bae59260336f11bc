import { createReadStream } from "node:fs";
import { DEFAULT_MAX_LINE_BYTES, splitLines, type RawLine } from "./line-splitter.js";

/**
 * Streaming JSONL reading that never throws on bad input. Every line becomes either a parsed JSON object or a
 * problem (code, message, fix) tied to its line number; the caller decides what to do with problems. A BOM and
 * CRLF line endings are accepted and counted (they are common in files exported from Windows tools).
 */
export type JsonlProblemCode =
  | "DATA_INVALID_UTF8"
  | "DATA_LINE_TOO_LONG"
  | "DATA_TRUNCATED_LINE"
  | "DATA_INVALID_JSON"
  | "DATA_NOT_OBJECT";

export interface LineProblem {
  line: number;
  code: JsonlProblemCode | (string & {});
  message: string;
  fix: string;
}

export type JsonlEntry =
  | { line: number; value: Record<string, unknown>; problem?: undefined }
  | { line: number; value?: undefined; problem: LineProblem };

export interface JsonlSummary {
  lines: number;
  blankLines: number;
  bom: boolean;
  crlfLines: number;
  records: number;
  problems: number;
  bytes: number;
}

export interface JsonlReadOptions {
  maxLineBytes?: number;
}

export function emptyJsonlSummary(): JsonlSummary {
  return { lines: 0, blankLines: 0, bom: false, crlfLines: 0, records: 0, problems: 0, bytes: 0 };
}

/** Reads a JSONL file entry by entry; `summary` is filled in as the iteration proceeds. */
export function readJsonlFile(path: string, options: JsonlReadOptions = {}): JsonlReader {
  return new JsonlReader(
    () => createReadStream(path, { highWaterMark: 1 << 20 }),
    options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES,
  );
}

/** Reads JSONL from any byte stream (tests, stdin, artifacts). */
export function readJsonlStream(
  open: () => AsyncIterable<Uint8Array>,
  options: JsonlReadOptions = {},
): JsonlReader {
  return new JsonlReader(open, options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES);
}

const CR = 0x0d;
const SPACE_OR_TAB = new Set([0x20, 0x09, 0x0d]);

export class JsonlReader implements AsyncIterable<JsonlEntry> {
  readonly summary: JsonlSummary = emptyJsonlSummary();
  constructor(
    private readonly open: () => AsyncIterable<Uint8Array>,
    private readonly maxLineBytes: number,
  ) {}

  async *[Symbol.asyncIterator](): AsyncGenerator<JsonlEntry> {
    const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
    const stream = this.open();
    try {
      for await (const raw of splitLines(stream, this.maxLineBytes)) {
        this.summary.lines = raw.line;
        this.summary.bytes += raw.length + (raw.unterminated ? 0 : 1);
        const entry = this.parse(raw, decoder);
        if (entry === undefined) continue;
        if (entry.problem) this.summary.problems += 1;
        else this.summary.records += 1;
        yield entry;
      }
    } finally {
      const closable = stream as { destroy?: () => void };
      closable.destroy?.();
    }
  }

  private parse(raw: RawLine, decoder: TextDecoder): JsonlEntry | undefined {
    const { line } = raw;
    if (raw.tooLong) {
      return problem(line, "DATA_LINE_TOO_LONG",
        `line ${line} is ${formatBytes(raw.length)}, over the ${formatBytes(this.maxLineBytes)} line limit; it was skipped`,
        "split the record, remove embedded blobs (images, base64), or raise the limit with --max-line-bytes");
    }
    let bytes = raw.bytes;
    if (line === 1 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) {
      this.summary.bom = true;
      bytes = bytes.subarray(3);
    }
    if (bytes.length > 0 && bytes[bytes.length - 1] === CR) {
      this.summary.crlfLines += 1;
      bytes = bytes.subarray(0, bytes.length - 1);
    }
    if (isBlank(bytes)) {
      this.summary.blankLines += 1;
      return undefined;
    }
    let text: string;
    try {
      text = decoder.decode(bytes);
    } catch {
      const offset = firstInvalidUtf8Offset(bytes);
      return problem(line, "DATA_INVALID_UTF8",
        `line ${line} is not valid UTF-8 (first bad byte 0x${(bytes[offset] ?? 0).toString(16).padStart(2, "0")} at byte ${offset})`,
        "re-encode the file as UTF-8 (e.g. `iconv -f latin1 -t utf-8 in.jsonl > out.jsonl`) or fix the line");
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      if (raw.unterminated) {
        return problem(line, "DATA_TRUNCATED_LINE",
          `line ${line} (the last line, without a newline) is incomplete JSON: ${reason}`,
          "the file looks truncated (an interrupted write or download); re-export it or delete the last line");
      }
      return problem(line, "DATA_INVALID_JSON", `line ${line} is not valid JSON: ${reason}`,
        "each line must hold exactly one JSON object; fix the syntax or remove the line");
    }
    if (value === null || typeof value !== "object" || Array.isArray(value)) {
      const kind = value === null ? "null" : Array.isArray(value) ? "an array" : `a ${typeof value}`;
      return problem(line, "DATA_NOT_OBJECT", `line ${line} is ${kind}, not a JSON object`,
        'wrap the line in an object, e.g. {"messages": [...]} or {"text": "..."}');
    }
    return { line, value: value as Record<string, unknown> };
  }
}

function problem(line: number, code: JsonlProblemCode, message: string, fix: string): JsonlEntry {
  return { line, problem: { line, code, message, fix } };
}

function isBlank(bytes: Uint8Array): boolean {
  for (let i = 0; i < bytes.length; i += 1) if (!SPACE_OR_TAB.has(bytes[i]!)) return false;
  return true;
}

/** The byte offset of the first invalid UTF-8 sequence (for the error message only; slow path). */
export function firstInvalidUtf8Offset(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i]!;
    const need = b < 0x80 ? 0 : b >= 0xc2 && b <= 0xdf ? 1 : b >= 0xe0 && b <= 0xef ? 2 : b >= 0xf0 && b <= 0xf4 ? 3 : -1;
    if (need < 0) return i;
    for (let k = 1; k <= need; k += 1) {
      const c = bytes[i + k];
      if (c === undefined || (c & 0xc0) !== 0x80) return i;
    }
    i += need + 1;
  }
  return Math.max(0, bytes.length - 1);
}

export function formatBytes(n: number): string {
  if (n >= 1024 * 1024) return `${(n / (1024 * 1024)).toFixed(1)} MiB`;
  if (n >= 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${n} B`;
}
