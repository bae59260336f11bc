import { describe, expect, it } from "vitest";
import { GgmlType, encodeGgufHeader, layoutTensors, tensorBytes } from "./gguf-encoding.js";

const u32 = (v: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v);
  return b;
};
const u64 = (v: number) => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(v));
  return b;
};
const str = (s: string) => Buffer.concat([u64(Buffer.byteLength(s)), Buffer.from(s)]);

describe("GGUF encoding", () => {
  it("lays tensors out at 32-byte offsets: f32 4 bytes, f16 2 bytes, q8_0 34 bytes per 32 values", () => {
    expect(tensorBytes([64, 2], GgmlType.Q8_0)).toBe(136);
    expect(
      layoutTensors([
        { name: "a", dims: [3], type: GgmlType.F32 },
        { name: "b", dims: [32, 2], type: GgmlType.F16 },
        { name: "c", dims: [32], type: GgmlType.Q8_0 },
      ]),
    ).toEqual([
      { name: "a", dims: [3], type: GgmlType.F32, offset: 0, bytes: 12 },
      { name: "b", dims: [32, 2], type: GgmlType.F16, offset: 32, bytes: 128 },
      { name: "c", dims: [32], type: GgmlType.Q8_0, offset: 160, bytes: 34 },
    ]);
  });

  it("writes the header, typed metadata and tensor infos byte for byte, padded to the data section", () => {
    const tensors = layoutTensors([
      { name: "token_embd.weight", dims: [2, 3], type: GgmlType.F16 },
      { name: "output_norm.weight", dims: [2], type: GgmlType.F32 },
    ]);
    const header = encodeGgufHeader(
      [
        ["general.architecture", { type: "string", value: "llama" }],
        ["llama.block_count", { type: "u32", value: 1 }],
        ["llama.rope.freq_base", { type: "f32", value: 10000 }],
        ["tokenizer.ggml.add_bos_token", { type: "bool", value: true }],
        ["tokenizer.ggml.tokens", { type: "string[]", value: ["a", "b"] }],
        ["tokenizer.ggml.token_type", { type: "i32[]", value: [1, -1] }],
      ],
      tensors,
    );
    const f32 = Buffer.alloc(4);
    f32.writeFloatLE(10000);
    const i32 = Buffer.alloc(8);
    i32.writeInt32LE(1, 0);
    i32.writeInt32LE(-1, 4);
    const body = Buffer.concat([
      Buffer.from("GGUF"), u32(3), u64(2), u64(6),
      str("general.architecture"), u32(8), str("llama"),
      str("llama.block_count"), u32(4), u32(1),
      str("llama.rope.freq_base"), u32(6), f32,
      str("tokenizer.ggml.add_bos_token"), u32(7), Buffer.from([1]),
      str("tokenizer.ggml.tokens"), u32(9), u32(8), u64(2), str("a"), str("b"),
      str("tokenizer.ggml.token_type"), u32(9), u32(5), u64(2), i32,
      str("token_embd.weight"), u32(2), u64(2), u64(3), u32(1), u64(0),
      str("output_norm.weight"), u32(1), u64(2), u32(0), u64(32),
    ]);
    const padded = Buffer.concat([body, Buffer.alloc((32 - (body.length % 32)) % 32)]);
    expect(header.length % 32).toBe(0);
    expect(header.equals(padded)).toBe(true);
  });
});
