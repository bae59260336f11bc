/**
 * The GGUF container (llama.cpp docs/gguf.md, gguf-py/gguf/constants.py), version 3, little-endian:
 *   magic "GGUF" · u32 version · u64 tensor_count · u64 metadata_kv_count · metadata kv · tensor infos ·
 *   padding to `general.alignment` · tensor data (each tensor starting at an aligned offset).
 * A string is u64 byte length + UTF-8 bytes (no terminator); an array is u32 element type + u64 count + elements.
 * A tensor info is name · u32 n_dims · u64 ne[n_dims] (innermost first: torch shape reversed) · u32 ggml type ·
 * u64 offset from the start of the data section.
 */
export const GGUF_MAGIC = "GGUF";
export const GGUF_VERSION = 3;
export const GGUF_ALIGNMENT = 32;

export const GgufValueType = {
  UINT8: 0,
  INT8: 1,
  UINT16: 2,
  INT16: 3,
  UINT32: 4,
  INT32: 5,
  FLOAT32: 6,
  BOOL: 7,
  STRING: 8,
  ARRAY: 9,
  UINT64: 10,
  INT64: 11,
  FLOAT64: 12,
} as const;

/** ggml tensor types we write (ggml.h `enum ggml_type`). */
export const GgmlType = { F32: 0, F16: 1, Q8_0: 8 } as const;
export type GgmlTypeId = (typeof GgmlType)[keyof typeof GgmlType];

/** `general.file_type` (llama.h `enum llama_ftype`): what most tensors are. */
export const FileType = { ALL_F32: 0, MOSTLY_F16: 1, MOSTLY_Q8_0: 7 } as const;

/** Token types of `tokenizer.ggml.token_type` (gguf-py TokenType). */
export const TokenType = { NORMAL: 1, UNKNOWN: 2, CONTROL: 3, USER_DEFINED: 4, UNUSED: 5, BYTE: 6 } as const;

/** One metadata value, typed the way it is written (numbers need their width spelled out). */
export type GgufValue =
  | { type: "u32"; value: number }
  | { type: "i32"; value: number }
  | { type: "f32"; value: number }
  | { type: "bool"; value: boolean }
  | { type: "string"; value: string }
  | { type: "u64"; value: bigint }
  | { type: "string[]"; value: readonly string[] }
  | { type: "f32[]"; value: readonly number[] }
  | { type: "i32[]"; value: readonly number[] };

export type GgufMetadata = ReadonlyArray<readonly [string, GgufValue]>;

export interface GgufTensorInfo {
  name: string;
  /** ne: innermost dimension first (a torch [rows, cols] weight is [cols, rows]). */
  dims: readonly number[];
  type: GgmlTypeId;
  /** Offset from the start of the data section, a multiple of the alignment. */
  offset: number;
  /** Bytes of its data (without padding). */
  bytes: number;
}

/** A growable little-endian byte builder for the (small) header; tensor data is streamed separately. */
export class ByteWriter {
  private buf = Buffer.alloc(1 << 16);
  length = 0;

  private reserve(n: number): void {
    if (this.length + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.length + n) size *= 2;
    const next = Buffer.alloc(size);
    this.buf.copy(next, 0, 0, this.length);
    this.buf = next;
  }
  u8(v: number): void {
    this.reserve(1);
    this.buf.writeUInt8(v, this.length);
    this.length += 1;
  }
  u32(v: number): void {
    this.reserve(4);
    this.buf.writeUInt32LE(v, this.length);
    this.length += 4;
  }
  i32(v: number): void {
    this.reserve(4);
    this.buf.writeInt32LE(v, this.length);
    this.length += 4;
  }
  f32(v: number): void {
    this.reserve(4);
    this.buf.writeFloatLE(v, this.length);
    this.length += 4;
  }
  u64(v: bigint | number): void {
    this.reserve(8);
    this.buf.writeBigUInt64LE(BigInt(v), this.length);
    this.length += 8;
  }
  string(s: string): void {
    const bytes = Buffer.from(s, "utf8");
    this.u64(bytes.length);
    this.reserve(bytes.length);
    bytes.copy(this.buf, this.length);
    this.length += bytes.length;
  }
  pad(alignment: number): void {
    const n = (alignment - (this.length % alignment)) % alignment;
    this.reserve(n);
    this.buf.fill(0, this.length, this.length + n);
    this.length += n;
  }
  bytes(): Buffer {
    return this.buf.subarray(0, this.length);
  }
}

function writeValue(w: ByteWriter, v: GgufValue): void {
  switch (v.type) {
    case "u32":
      w.u32(GgufValueType.UINT32);
      w.u32(v.value);
      return;
    case "i32":
      w.u32(GgufValueType.INT32);
      w.i32(v.value);
      return;
    case "f32":
      w.u32(GgufValueType.FLOAT32);
      w.f32(v.value);
      return;
    case "bool":
      w.u32(GgufValueType.BOOL);
      w.u8(v.value ? 1 : 0);
      return;
    case "string":
      w.u32(GgufValueType.STRING);
      w.string(v.value);
      return;
    case "u64":
      w.u32(GgufValueType.UINT64);
      w.u64(v.value);
      return;
    case "string[]":
      w.u32(GgufValueType.ARRAY);
      w.u32(GgufValueType.STRING);
      w.u64(v.value.length);
      for (const s of v.value) w.string(s);
      return;
    case "f32[]":
      w.u32(GgufValueType.ARRAY);
      w.u32(GgufValueType.FLOAT32);
      w.u64(v.value.length);
      for (const x of v.value) w.f32(x);
      return;
    case "i32[]":
      w.u32(GgufValueType.ARRAY);
      w.u32(GgufValueType.INT32);
      w.u64(v.value.length);
      for (const x of v.value) w.i32(x);
      return;
  }
}

/** Bytes of a tensor of `dims` (innermost first) in `type`: q8_0 is 34 bytes per block of 32 along ne0. */
export function tensorBytes(dims: readonly number[], type: GgmlTypeId): number {
  const n = dims.reduce((a, b) => a * b, 1);
  if (type === GgmlType.F32) return n * 4;
  if (type === GgmlType.F16) return n * 2;
  return (n / 32) * 34;
}

/** Lays tensors out one after another, each at an aligned offset of the data section. */
export function layoutTensors(tensors: ReadonlyArray<{ name: string; dims: readonly number[]; type: GgmlTypeId }>, alignment = GGUF_ALIGNMENT): GgufTensorInfo[] {
  let offset = 0;
  return tensors.map((t) => {
    const bytes = tensorBytes(t.dims, t.type);
    const info = { name: t.name, dims: t.dims, type: t.type, offset, bytes };
    offset += Math.ceil(bytes / alignment) * alignment;
    return info;
  });
}

/** Everything before the tensor data: header, metadata, tensor infos and the padding up to the data section. */
export function encodeGgufHeader(metadata: GgufMetadata, tensors: readonly GgufTensorInfo[], alignment = GGUF_ALIGNMENT): Buffer {
  const w = new ByteWriter();
  for (const c of GGUF_MAGIC) w.u8(c.charCodeAt(0));
  w.u32(GGUF_VERSION);
  w.u64(tensors.length);
  w.u64(metadata.length);
  for (const [key, value] of metadata) {
    w.string(key);
    writeValue(w, value);
  }
  for (const t of tensors) {
    w.string(t.name);
    w.u32(t.dims.length);
    for (const d of t.dims) w.u64(d);
    w.u32(t.type);
    w.u64(t.offset);
  }
  w.pad(alignment);
  return w.bytes();
}
