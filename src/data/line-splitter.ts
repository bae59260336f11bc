/**
 * Splits a byte stream into lines without ever holding more than `maxLineBytes` of one line in memory.
 * A line longer than the limit is skipped to its newline and reported with its true length, so a 50 MB line
 * costs no more memory than a short one. Lines are yielded as raw bytes (without "\n"); decoding is the
 * caller's job so that invalid UTF-8 can be reported per line.
 */
export const DEFAULT_MAX_LINE_BYTES = 16 * 1024 * 1024;

export interface RawLine {
  /** 1-based line number in the source. */
  line: number;
  /** The line's bytes without the trailing "\n"; empty when `tooLong`. */
  bytes: Uint8Array;
  /** The full length of the line in bytes (without "\n"), even when it was not kept. */
  length: number;
  /** The line exceeded maxLineBytes; `bytes` is empty. */
  tooLong: boolean;
  /** The last line of the source had no terminating "\n". */
  unterminated: boolean;
}

const NEWLINE = 0x0a;

export async function* splitLines(
  chunks: AsyncIterable<Uint8Array>,
  maxLineBytes: number = DEFAULT_MAX_LINE_BYTES,
): AsyncGenerator<RawLine> {
  let pending: Uint8Array[] = [];
  let pendingLength = 0;
  let skipping = false;
  let line = 0;

  const take = (tail: Uint8Array, unterminated: boolean): RawLine => {
    line += 1;
    const length = pendingLength + tail.length;
    if (skipping || length > maxLineBytes) {
      return { line, bytes: new Uint8Array(0), length, tooLong: true, unterminated };
    }
    let bytes: Uint8Array;
    if (pending.length === 0) bytes = tail;
    else bytes = Buffer.concat([...pending, tail], length);
    return { line, bytes, length, tooLong: false, unterminated };
  };
  const reset = (): void => {
    pending = [];
    pendingLength = 0;
    skipping = false;
  };

  for await (const chunk of chunks) {
    let start = 0;
    for (;;) {
      const nl = indexOfNewline(chunk, start);
      if (nl < 0) break;
      yield take(chunk.subarray(start, nl), false);
      reset();
      start = nl + 1;
    }
    if (start < chunk.length) {
      const rest = chunk.subarray(start);
      pendingLength += rest.length;
      if (skipping || pendingLength > maxLineBytes) {
        // Over the limit: stop keeping bytes but keep counting them.
        skipping = true;
        pending = [];
      } else {
        // Copy: the stream may reuse its buffer.
        pending.push(Uint8Array.prototype.slice.call(rest));
      }
    }
  }
  if (pendingLength > 0 || skipping) {
    yield take(new Uint8Array(0), true);
  }
}

function indexOfNewline(chunk: Uint8Array, from: number): number {
  return Buffer.isBuffer(chunk) ? chunk.indexOf(NEWLINE, from) : chunk.indexOf(NEWLINE, from);
}
