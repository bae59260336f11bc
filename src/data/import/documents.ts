import { createReadStream } from "node:fs";
import { basename } from "node:path";
import { splitLines } from "../line-splitter.js";
import type { LineProblem } from "../jsonl.js";
import type { TextRecord } from "../record.js";

/**
 * Plain text and Markdown documents chunked into `text` records for continued pre-training. Chunks break at
 * Markdown headings and paragraph boundaries and hold at most `maxChars` characters; a paragraph longer than
 * that is split at sentence ends (or hard-split). Each chunk records its file, index and heading.
 */
export interface ChunkOptions {
  maxChars?: number;
  markdown?: boolean;
}

export type DocumentItem = { line: number; record: TextRecord; problem?: undefined } | { line: number; record?: undefined; problem: LineProblem };

export async function* chunkDocument(path: string, options: ChunkOptions = {}): AsyncGenerator<DocumentItem> {
  const maxChars = options.maxChars ?? 2000;
  const markdown = options.markdown ?? /\.(md|markdown)$/i.test(path);
  const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });
  const source = basename(path);
  let heading: string | undefined;
  let chunk: string[] = [];
  let chunkChars = 0;
  let chunkLine = 1;
  let paragraph: string[] = [];
  let paragraphLine = 1;
  let index = 0;
  let inFence = false;

  function* emit(): Generator<DocumentItem> {
    const text = chunk.join("\n\n").trim();
    if (text !== "") {
      const metadata: Record<string, unknown> = { source, chunk: index, line: chunkLine };
      if (heading) metadata.heading = heading;
      index += 1;
      yield { line: chunkLine, record: { text, metadata } };
    }
    chunk = [];
    chunkChars = 0;
  }
  function* addParagraph(): Generator<DocumentItem> {
    const text = paragraph.join("\n").trim();
    paragraph = [];
    if (text === "") return;
    for (const piece of splitLong(text, maxChars)) {
      if (chunkChars > 0 && chunkChars + 2 + piece.length > maxChars) yield* emit();
      if (chunkChars === 0) chunkLine = paragraphLine;
      chunk.push(piece);
      chunkChars += piece.length + (chunk.length > 1 ? 2 : 0);
    }
  }

  const stream = createReadStream(path, { highWaterMark: 1 << 20 });
  try {
    for await (const raw of splitLines(stream)) {
      if (raw.tooLong) {
        yield { line: raw.line, problem: { line: raw.line, code: "DATA_LINE_TOO_LONG", message: `line ${raw.line} is longer than 16 MiB and was skipped`, fix: "break the line up" } };
        continue;
      }
      let text: string;
      try {
        text = decoder.decode(raw.bytes).replace(/\r$/, "");
      } catch {
        yield { line: raw.line, problem: { line: raw.line, code: "DATA_INVALID_UTF8", message: `line ${raw.line} is not valid UTF-8 and was skipped`,
          fix: "re-encode the file as UTF-8" } };
        continue;
      }
      if (raw.line === 1) text = text.replace(/^\uFEFF/, "");
      if (markdown && /^\s*(```|~~~)/.test(text)) inFence = !inFence;
      const headingMatch = markdown && !inFence ? /^(#{1,6})\s+(.*)$/.exec(text) : null;
      if (headingMatch) {
        yield* addParagraph();
        yield* emit();
        heading = headingMatch[2]!.trim();
        paragraph = [text];
        paragraphLine = raw.line;
        yield* addParagraph();
        continue;
      }
      if (text.trim() === "" && !inFence) {
        yield* addParagraph();
        continue;
      }
      if (paragraph.length === 0) paragraphLine = raw.line;
      paragraph.push(text);
    }
    yield* addParagraph();
    yield* emit();
  } finally {
    stream.destroy();
  }
}

/** Splits text longer than max at sentence ends, else at spaces, else hard. */
export function splitLong(text: string, max: number): string[] {
  if (text.length <= max) return [text];
  const out: string[] = [];
  let rest = text;
  while (rest.length > max) {
    const window = rest.slice(0, max);
    let cut = Math.max(window.lastIndexOf(". "), window.lastIndexOf("? "), window.lastIndexOf("! "), window.lastIndexOf("\n"));
    if (cut < max / 2) cut = window.lastIndexOf(" ");
    if (cut < max / 2) cut = max - 1;
    out.push(rest.slice(0, cut + 1).trim());
    rest = rest.slice(cut + 1).trimStart();
  }
  if (rest.trim() !== "") out.push(rest.trim());
  return out;
}
