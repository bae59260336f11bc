import { closeSync, existsSync, openSync, readFileSync, readSync } from "node:fs";
import { open, type FileHandle } from "node:fs/promises";
import { join } from "node:path";
import { ConfigError, NotFoundError } from "../errors/index.js";
import { fromHalfBits } from "./quantize.js";

/**
 * Reads a Hugging Face folder's safetensors (one file, or shards listed in model.safetensors.index.json) a
 * slice of rows at a time, so a tensor never has to be in memory whole and the model never is.
 * File layout: u64 header length · JSON header {name: {dtype, shape, data_offsets: [begin, end]}} · data.
 */
export interface SafetensorsTensor {
  name: string;
  dtype: "F32" | "F16" | "BF16";
  shape: number[];
  file: string;
  /** Absolute byte offset of the first element in `file`. */
  start: number;
}

const ELEMENT_BYTES = { F32: 4, F16: 2, BF16: 2 } as const;

function readHeader(file: string): SafetensorsTensor[] {
  const head = Buffer.alloc(8);
  const handle = openSync(file, "r");
  try {
    readExact(handle, head, 0);
    const length = Number(head.readBigUInt64LE(0));
    const json = Buffer.alloc(length);
    readExact(handle, json, 8);
    const header = JSON.parse(json.toString("utf8")) as Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
    const out: SafetensorsTensor[] = [];
    for (const [name, entry] of Object.entries(header)) {
      if (name === "__metadata__") continue;
      if (!(entry.dtype in ELEMENT_BYTES)) {
        throw new ConfigError("EXPORT_DTYPE_UNSUPPORTED", `tensor ${name} in ${file} is ${entry.dtype}`, { fix: "export a model stored in float32, float16 or bfloat16 (merge with --dtype float16)" });
      }
      out.push({ name, dtype: entry.dtype as SafetensorsTensor["dtype"], shape: entry.shape, file, start: 8 + length + entry.data_offsets[0] });
    }
    return out;
  } finally {
    closeSync(handle);
  }
}

function readExact(fd: number, buf: Buffer, position: number): void {
  let done = 0;
  while (done < buf.length) {
    const n = readSync(fd, buf, done, buf.length - done, position + done);
    if (n === 0) throw new ConfigError("EXPORT_SAFETENSORS_TRUNCATED", `safetensors file ended early at byte ${position + done}`, { fix: "re-create the model folder (merge again)" });
    done += n;
  }
}

/** The tensors of a model folder by name. */
export function listSafetensors(modelDir: string): Map<string, SafetensorsTensor> {
  const index = join(modelDir, "model.safetensors.index.json");
  const single = join(modelDir, "model.safetensors");
  let files: string[];
  if (existsSync(index)) {
    const map = (JSON.parse(readFileSync(index, "utf8")) as { weight_map: Record<string, string> }).weight_map;
    files = [...new Set(Object.values(map))].map((f) => join(modelDir, f));
  } else if (existsSync(single)) {
    files = [single];
  } else {
    throw new NotFoundError("EXPORT_WEIGHTS_NOT_FOUND", `no model.safetensors (or model.safetensors.index.json) in ${modelDir}`, { fix: "pass a Hugging Face model folder with safetensors weights" });
  }
  const tensors = new Map<string, SafetensorsTensor>();
  for (const file of files) for (const t of readHeader(file)) tensors.set(t.name, t);
  return tensors;
}

/** Reads rows [first, first + count) of a tensor (rows = the first dimension) as float32. */
export class RowReader {
  private readonly handles = new Map<string, Promise<FileHandle>>();

  async rows(t: SafetensorsTensor, first: number, count: number): Promise<Float32Array> {
    const rowElems = t.shape.slice(1).reduce((a, b) => a * b, 1);
    const size = ELEMENT_BYTES[t.dtype];
    const bytes = Buffer.alloc(count * rowElems * size);
    let handle = this.handles.get(t.file);
    if (!handle) {
      handle = open(t.file, "r");
      this.handles.set(t.file, handle);
    }
    const fh = await handle;
    let done = 0;
    while (done < bytes.length) {
      const { bytesRead } = await fh.read(bytes, done, bytes.length - done, t.start + first * rowElems * size + done);
      if (bytesRead === 0) throw new ConfigError("EXPORT_SAFETENSORS_TRUNCATED", `${t.file} ends inside tensor ${t.name}`, { fix: "re-create the model folder (merge again)" });
      done += bytesRead;
    }
    const n = count * rowElems;
    const out = new Float32Array(n);
    if (t.dtype === "F32") {
      for (let i = 0; i < n; i++) out[i] = bytes.readFloatLE(i * 4);
    } else if (t.dtype === "BF16") {
      // bfloat16 is the top half of a float32.
      const u = new Uint32Array(out.buffer);
      for (let i = 0; i < n; i++) u[i] = bytes.readUInt16LE(i * 2) << 16;
    } else {
      for (let i = 0; i < n; i++) out[i] = fromHalfBits(bytes.readUInt16LE(i * 2));
    }
    return out;
  }

  async close(): Promise<void> {
    for (const h of this.handles.values()) await (await h).close();
    this.handles.clear();
  }
}
