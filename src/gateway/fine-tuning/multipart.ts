import { PayloadTooLargeError, UsageError } from "../../errors/index.js";

/** Where a multipart file part's bytes go as they arrive (a temp file): the upload is never held whole. */
export interface PartSink {
  write(chunk: Buffer): Promise<void>;
}

export interface MultipartResult {
  /** The small (non-file) fields, e.g. `purpose`. */
  fields: Record<string, string>;
  /** The file part's name and form-field name, when one was sent. */
  file: { field: string; filename: string; bytes: number } | null;
}

const MAX_FIELD_BYTES = 64 * 1024;
const MAX_HEADER_BYTES = 16 * 1024;

/** The boundary of a `multipart/form-data` content type, or a 400 naming what was sent instead. */
export function boundaryOf(contentType: string | undefined): string {
  const m = /^multipart\/form-data\s*;.*\bboundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType ?? "");
  if (!m) {
    throw new UsageError("FT_FILE_NOT_MULTIPART", `POST /v1/files needs a multipart/form-data body, got content-type ${JSON.stringify(contentType ?? "(none)")}`, {
      fix: "send the file as multipart/form-data with fields `purpose` and `file` (the OpenAI SDK's files.create does)",
      details: { param: "file" },
    });
  }
  return m[1] ?? m[2];
}

/**
 * Streams a multipart/form-data body: small fields are collected, the one file part is handed to `sink` in
 * chunks as it arrives (only a boundary's length of it is ever buffered). More than `maxBytes` in all → 413.
 */
export async function readMultipart(body: AsyncIterable<Buffer>, boundary: string, sink: (field: string, filename: string) => PartSink, maxBytes: number): Promise<MultipartResult> {
  const opening = Buffer.from(`--${boundary}`);
  const delimiter = Buffer.from(`\r\n--${boundary}`);
  const fields: Record<string, string> = {};
  let file: MultipartResult["file"] = null;
  let buf: Buffer = Buffer.alloc(0);
  let total = 0;
  let state: "preamble" | "after-delimiter" | "headers" | "body" | "done" = "preamble";
  let part: { field: string; filename: string | null; sink: PartSink | null; chunks: Buffer[]; size: number } | null = null;

  const emit = async (data: Buffer) => {
    if (!part || data.length === 0) return;
    part.size += data.length;
    if (part.sink) await part.sink.write(data);
    else {
      if (part.size > MAX_FIELD_BYTES) throw malformed(`field ${JSON.stringify(part.field)} is over ${MAX_FIELD_BYTES} bytes`);
      part.chunks.push(data);
    }
  };

  // The whole body is read (an epilogue after the closing boundary is drained): leaving a request stream early
  // destroys its socket, and the response with it.
  for await (const chunk of body) {
    total += chunk.length;
    if (total > maxBytes) {
      throw new PayloadTooLargeError("FT_FILE_TOO_LARGE", `the upload is over the ${maxBytes}-byte limit (gateway.fineTuning.maxFileBytes)`, {
        fix: "split the dataset into smaller files, or raise gateway.fineTuning.maxFileBytes in tunekit.yaml",
        details: { param: "file", maxBytes },
      });
    }
    if (state === "done") continue;
    buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
    for (;;) {
      if (state === "preamble") {
        const i = buf.indexOf(opening);
        if (i < 0) {
          buf = buf.subarray(Math.max(0, buf.length - opening.length));
          break;
        }
        buf = buf.subarray(i + opening.length);
        state = "after-delimiter";
      } else if (state === "after-delimiter") {
        if (buf.length < 2) break;
        if (buf.subarray(0, 2).toString() === "--") {
          state = "done";
          break;
        }
        if (buf.subarray(0, 2).toString() !== "\r\n") throw malformed("a boundary is not followed by CRLF");
        buf = buf.subarray(2);
        state = "headers";
      } else if (state === "headers") {
        const end = buf.indexOf("\r\n\r\n");
        if (end < 0) {
          if (buf.length > MAX_HEADER_BYTES) throw malformed("a part's headers are too long");
          break;
        }
        const headers = buf.subarray(0, end).toString("utf8");
        buf = buf.subarray(end + 4);
        const disposition = /content-disposition:\s*form-data\s*;([^\r\n]*)/i.exec(headers)?.[1] ?? "";
        const field = /\bname="([^"]*)"/i.exec(disposition)?.[1];
        if (field === undefined) throw malformed("a part has no Content-Disposition name");
        const filename = /\bfilename="([^"]*)"/i.exec(disposition)?.[1] ?? null;
        if (filename !== null && file) throw malformed("more than one file part");
        part = { field, filename, sink: filename !== null ? sink(field, filename) : null, chunks: [], size: 0 };
        state = "body";
      } else if (state === "body") {
        const i = buf.indexOf(delimiter);
        if (i < 0) {
          // Keep what could be the start of a delimiter split across chunks.
          const keep = delimiter.length - 1;
          if (buf.length > keep) {
            await emit(buf.subarray(0, buf.length - keep));
            buf = buf.subarray(buf.length - keep);
          }
          break;
        }
        await emit(buf.subarray(0, i));
        buf = buf.subarray(i + delimiter.length);
        if (part!.filename !== null) file = { field: part!.field, filename: part!.filename, bytes: part!.size };
        else fields[part!.field] = Buffer.concat(part!.chunks).toString("utf8");
        part = null;
        state = "after-delimiter";
      } else break;
    }
  }
  if (state !== "done") throw malformed("the body ended before the closing boundary");
  return { fields, file };
}

function malformed(what: string): UsageError {
  return new UsageError("FT_FILE_BAD_MULTIPART", `the multipart/form-data body is malformed: ${what}`, {
    fix: "send a well-formed multipart body with fields `purpose` and `file` (the OpenAI SDK's files.create does)",
    details: { param: "file" },
  });
}
