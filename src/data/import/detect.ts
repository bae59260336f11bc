import { open } from "node:fs/promises";
import { extname } from "node:path";
import { parse } from "csv-parse/sync";
import { UsageError } from "../../errors/index.js";
import { SHAPE_EVIDENCE, SHAPE_LABELS, shapeOf, type JsonlShape } from "./jsonl-shapes.js";
import { checkColumnsExist, formatColumnMap, guessColumnMap, parseColumnMap, type ColumnMap } from "./column-map.js";

/**
 * Format detection from the extension and a 1 MiB sample; every decision carries a human reason, e.g.
 * "OpenAI chat JSONL: 98/100 sampled lines have a messages array".
 */
export type SourceFormat =
  | { kind: "jsonl"; shape: JsonlShape }
  | { kind: "table"; table: "csv" | "tsv" | "jsonl"; map: ColumnMap }
  | { kind: "conversation-log"; table: "csv" | "tsv" | "jsonl" }
  | { kind: "document"; markdown: boolean };

export interface Detection {
  path: string;
  format: SourceFormat;
  label: string;
  reason: string;
}

export interface DetectOptions {
  format?: "auto" | "jsonl" | "csv" | "tsv" | "text" | "markdown";
  map?: string;
  conversationId?: string;
}

const SAMPLE_BYTES = 1 << 20;
const SAMPLE_LINES = 100;

async function readSample(path: string): Promise<string> {
  const handle = await open(path, "r");
  try {
    const buffer = Buffer.alloc(SAMPLE_BYTES);
    const { bytesRead } = await handle.read(buffer, 0, SAMPLE_BYTES, 0);
    return buffer.subarray(0, bytesRead).toString("utf8").replace(/^\uFEFF/, "");
  } finally {
    await handle.close();
  }
}

function tableKind(ext: string, sample: string): "csv" | "tsv" {
  if (ext === ".tsv" || ext === ".tab") return "tsv";
  if (ext === ".csv") return "csv";
  const first = sample.split("\n", 1)[0] ?? "";
  return (first.match(/\t/g)?.length ?? 0) > (first.match(/,/g)?.length ?? 0) ? "tsv" : "csv";
}

function headerOf(sample: string, table: "csv" | "tsv"): string[] {
  const firstLine = sample.split(/\r?\n/, 1)[0] ?? "";
  const rows = parse(firstLine, { delimiter: table === "tsv" ? "\t" : ",", relax_quotes: true, relax_column_count: true }) as string[][];
  return (rows[0] ?? []).map((c) => c.trim());
}

export async function detectFormat(path: string, options: DetectOptions = {}): Promise<Detection> {
  const ext = extname(path).toLowerCase();
  const sample = await readSample(path);
  const forced = options.format && options.format !== "auto" ? options.format : undefined;
  const looksJsonl = forced === "jsonl" || (!forced && ([".jsonl", ".ndjson", ".json"].includes(ext) || (ext === "" && sample.trimStart().startsWith("{"))));
  const looksTable = forced === "csv" || forced === "tsv" || (!forced && [".csv", ".tsv", ".tab"].includes(ext));

  if (options.conversationId) {
    const table = looksJsonl ? "jsonl" : forced === "tsv" ? "tsv" : tableKind(ext, sample);
    return { path, format: { kind: "conversation-log", table }, label: `conversation log (${table.toUpperCase()})`,
      reason: `--conversation-id ${options.conversationId} given: rows are grouped into conversations` };
  }
  if (looksJsonl) {
    const lines = sample.split("\n");
    if (sample.length === SAMPLE_BYTES) lines.pop(); // the last sampled line may be cut
    const counts = new Map<JsonlShape, number>();
    let sampled = 0;
    for (const line of lines) {
      if (sampled >= SAMPLE_LINES) break;
      if (line.trim() === "") continue;
      sampled += 1;
      try {
        const value = JSON.parse(line) as unknown;
        const shape = value && typeof value === "object" && !Array.isArray(value) ? shapeOf(value as Record<string, unknown>) : undefined;
        if (shape) counts.set(shape, (counts.get(shape) ?? 0) + 1);
      } catch { /* counted as not matching */ }
    }
    if (options.map) {
      const map = parseColumnMap(options.map);
      return { path, format: { kind: "table", table: "jsonl", map }, label: "JSONL rows with a column mapping", reason: `--map ${formatColumnMap(map)} given` };
    }
    const best = [...counts.entries()].sort((a, b) => b[1] - a[1])[0];
    if (!best) {
      throw new UsageError("DATA_FORMAT_UNKNOWN", `${path}: none of ${sampled} sampled lines is a known record shape (chat, prompt/completion, Alpaca, ShareGPT, text)`, {
        fix: "map its fields with --map user=FIELD,assistant=FIELD, or convert it to OpenAI chat JSONL",
      });
    }
    const [shape, n] = best;
    return { path, format: { kind: "jsonl", shape }, label: SHAPE_LABELS[shape], reason: `${SHAPE_LABELS[shape]}: ${n}/${sampled} sampled lines ${SHAPE_EVIDENCE[shape]}` };
  }
  if (looksTable) {
    const table = forced === "tsv" ? "tsv" : forced === "csv" ? "csv" : tableKind(ext, sample);
    const columns = headerOf(sample, table);
    const why = forced ? `--format ${forced}` : `extension ${ext}`;
    if (options.map) {
      const map = parseColumnMap(options.map);
      checkColumnsExist(map, columns, path);
      return { path, format: { kind: "table", table, map }, label: table.toUpperCase(),
        reason: `${table.toUpperCase()} (${why}), header: ${columns.join(", ")}; mapping from --map: ${formatColumnMap(map)}` };
    }
    const guess = guessColumnMap(columns);
    if (!guess) {
      throw new UsageError("DATA_MAP_REQUIRED", `${path}: cannot tell which columns hold the user and assistant turns (columns: ${columns.join(", ")})`, {
        fix: `pass --map, e.g. --map user=${columns[0] ?? "COLUMN"},assistant=${columns[1] ?? "COLUMN"} (other columns are kept as metadata)`,
      });
    }
    return { path, format: { kind: "table", table, map: guess.map }, label: table.toUpperCase(),
      reason: `${table.toUpperCase()} (${why}), header: ${columns.join(", ")}; ${guess.reason}` };
  }
  const markdown = forced === "markdown" || (!forced && [".md", ".markdown"].includes(ext)) || (!forced && /^#{1,6} /m.test(sample));
  return { path, format: { kind: "document", markdown }, label: markdown ? "Markdown document" : "plain text document",
    reason: forced ? `--format ${forced}` : markdown ? (ext === ".md" || ext === ".markdown" ? `extension ${ext}` : "lines start with Markdown headings")
      : `extension ${ext || "(none)"} is not JSONL/CSV/TSV and the content is not JSON: chunked into text records` };
}
