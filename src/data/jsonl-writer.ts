import { createWriteStream, type WriteStream } from "node:fs";
import { mkdir, rename, rm } from "node:fs/promises";
import { dirname } from "node:path";
import { once } from "node:events";
import { canonicalJson } from "./canonical-json.js";

/**
 * A streaming JSONL file writer. It writes to `<path>.tmp-<pid>-<n>` and renames into place on `close()`, so a
 * reader never sees half a file and a failed run leaves nothing behind (`abort()` deletes the temp file).
 * Back-pressure is honoured: `write` awaits "drain" when the kernel buffer is full.
 */
export interface JsonlWriter {
  readonly path: string;
  readonly count: number;
  write(record: unknown): Promise<void>;
  close(): Promise<void>;
  abort(): Promise<void>;
}

let counter = 0;

export async function createJsonlWriter(
  path: string,
  options: { canonical?: boolean } = {},
): Promise<JsonlWriter> {
  await mkdir(dirname(path), { recursive: true });
  counter += 1;
  const temp = `${path}.tmp-${process.pid}-${counter}`;
  const stream: WriteStream = createWriteStream(temp, { flags: "wx" });
  await once(stream, "open");
  const stringify = options.canonical === false ? JSON.stringify : canonicalJson;
  let count = 0;
  let finished = false;
  // Batch small records into ~64 KiB writes: one syscall per record is the bottleneck at 1M records.
  let batch = "";
  const flush = async (): Promise<void> => {
    if (batch.length === 0) return;
    const data = batch;
    batch = "";
    if (!stream.write(data)) await once(stream, "drain");
  };
  return {
    path,
    get count() {
      return count;
    },
    async write(record) {
      if (finished) throw new Error(`JsonlWriter for ${path} is already closed`);
      count += 1;
      batch += stringify(record) + "\n";
      if (batch.length >= 65536) await flush();
    },
    async close() {
      if (finished) return;
      await flush();
      finished = true;
      await new Promise<void>((resolve, reject) => {
        stream.end((error?: Error | null) => (error ? reject(error) : resolve()));
      });
      await rename(temp, path);
    },
    async abort() {
      if (finished) return;
      finished = true;
      stream.destroy();
      await rm(temp, { force: true });
    },
  };
}
